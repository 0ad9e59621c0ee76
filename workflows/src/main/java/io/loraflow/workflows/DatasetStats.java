package io.loraflow.workflows;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What prepareDataset found in a dataset.
 *
 * @param source the dataset URI as given
 * @param format the parsed format ("nested-json", "jsonl", "csv", "alpaca", "chat")
 * @param sourceBytes size of the fetched bytes
 * @param records question/answer pairs kept (after dedup)
 * @param duplicatesRemoved pairs dropped because their question (trimmed, case-folded) repeated an
 *     earlier one; the first occurrence is kept
 * @param meanQuestionChars mean question length in characters
 * @param meanAnswerChars mean answer length in characters
 * @param maxAnswerChars longest answer in characters
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DatasetStats(
    String source,
    String format,
    long sourceBytes,
    int records,
    int duplicatesRemoved,
    double meanQuestionChars,
    double meanAnswerChars,
    int maxAnswerChars) {}
