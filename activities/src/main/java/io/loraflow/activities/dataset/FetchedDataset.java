package io.loraflow.activities.dataset;

/**
 * Raw dataset bytes as fetched.
 *
 * @param uri the URI asked for
 * @param name the file name (last path segment), used to guess the format from its extension
 * @param bytes the content
 */
public record FetchedDataset(String uri, String name, byte[] bytes) {}
