package io.loraflow.workflows.admission;

/**
 * A run asks the gate for a slot.
 *
 * @param workflowId the asking run's workflow id (the grant is signalled to it)
 * @param submittedAtMillis the run's start time (epoch ms): oldest first
 * @param config the asking worker's gate settings (the gate follows the newest)
 */
public record AdmissionRequest(String workflowId, long submittedAtMillis, AdmissionConfig config) {}
