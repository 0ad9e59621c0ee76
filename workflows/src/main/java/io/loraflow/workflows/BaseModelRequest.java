package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Input of {@link GpuActivities#prepareBaseModel}.
 *
 * @param baseModel alias or URI ({@link BaseModels})
 * @param storageName directory under models/ to cache it in ({@link BaseModels#storageName})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BaseModelRequest(String baseModel, String storageName) {}
