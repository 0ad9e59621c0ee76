package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * Base model vs adapter on a sample of the training questions ("seen"): what a support bot is asked
 * every day. High scores here with low held-out scores mean memorization, not generalization.
 *
 * @param baseLoss mean answer-token cross-entropy of the sampled training examples, base model
 * @param adapterLoss the same with the adapter
 * @param base answer scores of the base model on the sampled training questions
 * @param adapter answer scores with the adapter
 * @param numPrompts training questions sampled and answered by each
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SeenEval(
    double baseLoss, double adapterLoss, Scores base, Scores adapter, int numPrompts) {}
