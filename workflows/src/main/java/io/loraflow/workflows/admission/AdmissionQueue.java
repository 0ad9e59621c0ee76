package io.loraflow.workflows.admission;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The admission gate's bookkeeping, free of Temporal: at most {@code capacity} holders at once; the
 * others wait in order of submission (oldest run first; ties by workflow id). Every operation
 * returns the workflow ids that became holders because of it, in grant order, so that the caller
 * can tell them. Not thread-safe (the gate workflow runs one thread at a time).
 */
public final class AdmissionQueue {

  /**
   * One waiting run.
   *
   * @param workflowId the run's workflow id
   * @param submittedAtMillis when the run started (epoch ms): the FIFO order
   */
  public record Waiter(String workflowId, long submittedAtMillis) {}

  /**
   * What the gate carries through continue-as-new.
   *
   * @param capacity runs admitted at once
   * @param waiting waiting runs, oldest first
   * @param holders admitted runs, in grant order
   */
  public record Snapshot(int capacity, List<Waiter> waiting, List<String> holders) {
    public Snapshot {
      waiting = waiting == null ? List.of() : List.copyOf(waiting);
      holders = holders == null ? List.of() : List.copyOf(holders);
    }
  }

  private static final Comparator<Waiter> OLDEST_FIRST =
      Comparator.comparingLong(Waiter::submittedAtMillis).thenComparing(Waiter::workflowId);

  private int capacity;
  private final TreeSet<Waiter> waiting = new TreeSet<>(OLDEST_FIRST);
  private final Set<String> holders = new LinkedHashSet<>();

  public AdmissionQueue(int capacity) {
    this.capacity = checkedCapacity(capacity);
  }

  /** The queue a snapshot describes (holders beyond its capacity stay holders until released). */
  public static AdmissionQueue from(Snapshot s) {
    AdmissionQueue q = new AdmissionQueue(s.capacity());
    q.holders.addAll(s.holders());
    for (Waiter w : s.waiting()) {
      if (!q.holders.contains(w.workflowId())) {
        q.waiting.add(w);
      }
    }
    return q;
  }

  public Snapshot snapshot() {
    return new Snapshot(capacity, List.copyOf(waiting), List.copyOf(holders));
  }

  /**
   * {@code workflowId} asks for a slot. Returns the runs admitted now: this one if a slot is free
   * (or if it already holds one: an asker that lost the grant is told again), else none and it
   * waits. Asking again while waiting keeps its place.
   */
  public List<String> request(String workflowId, long submittedAtMillis) {
    if (holders.contains(workflowId)) {
      return List.of(workflowId);
    }
    if (indexOf(workflowId) < 0) {
      waiting.add(new Waiter(workflowId, submittedAtMillis));
    }
    return promote();
  }

  /**
   * {@code workflowId} is done (finished, failed, cancelled, or gone): its slot or its place in the
   * queue is freed. Unknown ids are ignored. Returns the runs admitted into the freed slot.
   */
  public List<String> release(String workflowId) {
    boolean held = holders.remove(workflowId);
    if (!held) {
      waiting.removeIf(w -> w.workflowId().equals(workflowId));
    }
    return promote();
  }

  /** A new capacity; a larger one admits waiting runs now, a smaller one waits for releases. */
  public List<String> setCapacity(int newCapacity) {
    capacity = checkedCapacity(newCapacity);
    return promote();
  }

  /** 1-based place in the queue, 0 for a holder, -1 for a run the gate does not know. */
  public int position(String workflowId) {
    if (holders.contains(workflowId)) {
      return 0;
    }
    int i = indexOf(workflowId);
    return i < 0 ? -1 : i + 1;
  }

  public boolean knows(String workflowId) {
    return position(workflowId) >= 0;
  }

  public int capacity() {
    return capacity;
  }

  public int waitingCount() {
    return waiting.size();
  }

  /** Admitted runs, in grant order. */
  public List<String> holders() {
    return List.copyOf(holders);
  }

  /** True when someone waits for a slot: only then does a dead holder cost anything. */
  public boolean anyoneWaiting() {
    return !waiting.isEmpty();
  }

  private List<String> promote() {
    List<String> granted = new ArrayList<>();
    while (holders.size() < capacity && !waiting.isEmpty()) {
      Waiter next = waiting.pollFirst();
      holders.add(next.workflowId());
      granted.add(next.workflowId());
    }
    return granted;
  }

  private int indexOf(String workflowId) {
    int i = 0;
    for (Waiter w : waiting) {
      if (w.workflowId().equals(workflowId)) {
        return i;
      }
      i++;
    }
    return -1;
  }

  private static int checkedCapacity(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("admission capacity must be at least 1, got " + capacity);
    }
    return capacity;
  }
}
