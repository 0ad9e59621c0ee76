package io.loraflow.engine.lora;

/** How the frozen base weights under LoRA are stored. */
public enum BaseFormat {
  /** NF4 codes + double-quantized absmax (QLoRA: bnb_4bit_quant_type=nf4, use_double_quant). */
  NF4,
  /** NF4 codes + float32 absmax. */
  NF4_PLAIN_ABSMAX,
  /** Dense weights in the compute dtype (plain LoRA on an fp16/fp32 base). */
  DENSE
}
