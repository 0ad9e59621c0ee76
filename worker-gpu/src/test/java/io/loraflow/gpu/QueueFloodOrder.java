package io.loraflow.gpu;

import java.util.ArrayList;
import java.util.List;

/** The order property QueueFloodIT checks, apart so that a unit test pins it on recorded orders. */
final class QueueFloodOrder {
  private QueueFloodOrder() {}

  /**
   * True when, after the first {@code slots} completions (whoever asked the gate first), every
   * completion's place among the rest is within {@code slots} of its place in submission order.
   *
   * @param order submission indexes in completion order
   */
  static boolean fifoAfterHead(List<? extends Number> order, int slots) {
    if (order.size() <= slots) {
      return true;
    }
    List<Long> rest = new ArrayList<>();
    for (Number n : order.subList(slots, order.size())) {
      rest.add(n.longValue());
    }
    List<Long> sorted = new ArrayList<>(rest);
    sorted.sort(null);
    for (int place = 0; place < rest.size(); place++) {
      if (Math.abs(sorted.indexOf(rest.get(place)) - place) > slots) {
        return false;
      }
    }
    return true;
  }
}
