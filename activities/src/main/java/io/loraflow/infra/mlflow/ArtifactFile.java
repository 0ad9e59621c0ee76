package io.loraflow.infra.mlflow;

/** One entry of MLflow's artifact list: path relative to the run's artifact root. */
public record ArtifactFile(String path, boolean isDir, long size) {}
