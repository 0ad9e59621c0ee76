package io.loraflow.api.api;

import java.util.List;

/**
 * Registered adapters, by name.
 *
 * @param adapters at most {@code limit} registered models whose name starts with {@code prefix}
 * @param prefix the name prefix that selected them
 */
public record AdapterList(List<RegisteredAdapter> adapters, String prefix) {}
