package io.loraflow.infra.mlflow;

import java.util.Optional;

/**
 * The outcome of a registration.
 *
 * @param champion true if this version holds the {@code champion} alias after the call
 * @param previousChampion the version that held {@code champion} before, if any and different
 * @param url the version's page in the MLflow UI
 */
public record RegisteredVersion(
    ModelVersionRef version,
    boolean created,
    boolean champion,
    Optional<String> previousChampion,
    String url) {}
