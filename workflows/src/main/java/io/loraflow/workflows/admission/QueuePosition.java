package io.loraflow.workflows.admission;

/**
 * Where one run stands at the gate (the gate's {@code position} query).
 *
 * @param position 1-based place among the waiting runs; 0 when admitted; -1 when unknown
 * @param waiting runs waiting
 * @param admitted runs holding a slot
 * @param slots slots in all
 */
public record QueuePosition(int position, int waiting, int admitted, int slots) {

  /** "position 3 of 97 waiting; 2 of 2 slots in use" (or why there is no position). */
  public String describe() {
    String slotsLine = admitted + " of " + slots + " slots in use";
    if (position > 0) {
      return "position " + position + " of " + waiting + " waiting; " + slotsLine;
    }
    if (position == 0) {
      return "admitted; " + slotsLine;
    }
    return "not yet at the gate; " + waiting + " waiting, " + slotsLine;
  }
}
