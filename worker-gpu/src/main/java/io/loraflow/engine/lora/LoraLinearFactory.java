package io.loraflow.engine.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loraflow.engine.model.Linear;
import io.loraflow.engine.model.LinearFactory;
import io.loraflow.engine.quant.Nf4Linear;
import io.loraflow.engine.quant.Nf4Quantizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds every linear module of a model as it loads: the frozen base in {@link BaseFormat} (the LM
 * head always stays dense, as bitsandbytes leaves it), wrapped in a {@link LoraLinear} when the
 * {@link LoraConfig} targets the module. A is kaiming-uniform(a=sqrt(5)) like PEFT, i.e.
 * U(-1/sqrt(in), 1/sqrt(in)), drawn from a Java RNG seeded by (seed, module path) so that the
 * initial adapter does not depend on the device or the load order; B starts at zero.
 *
 * <p>After the model is built call {@link #requireAllTargetsMatched()}: a target that selected no
 * module is an error that lists the model's module names.
 */
public final class LoraLinearFactory implements LinearFactory {

  private final LoraConfig config;
  private final BaseFormat baseFormat;
  private final DataType computeType;
  private final NDManager owner;
  private final long seed;
  private final Nf4Quantizer quantizer;
  private final Map<String, LoraLinear> loraModules = new LinkedHashMap<>();
  private final List<String> allModules = new ArrayList<>();
  private final List<Linear> bases = new ArrayList<>();
  private long baseBytes;
  private long baseParams;

  /**
   * @param owner manager that owns every weight created here (the model's manager)
   * @param seed seed of the LoRA A initialization
   */
  public LoraLinearFactory(
      LoraConfig config, BaseFormat baseFormat, DataType computeType, NDManager owner, long seed) {
    if (computeType != DataType.FLOAT16 && computeType != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "compute dtype must be FLOAT16 or FLOAT32 (DJL has no bfloat16), got " + computeType);
    }
    this.config = config;
    this.baseFormat = baseFormat;
    this.computeType = computeType;
    this.owner = owner;
    this.seed = seed;
    this.quantizer = new Nf4Quantizer(baseFormat == BaseFormat.NF4);
  }

  @Override
  public Linear create(String name, NDArray weight, NDArray bias) {
    allModules.add(name);
    Linear base = createBase(name, weight, bias);
    bases.add(base);
    if (!config.targets(name)) {
      return base;
    }
    int in = base.inFeatures();
    int out = base.outFeatures();
    NDArray a = owner.create(kaimingUniform(name, config.r(), in), new Shape(config.r(), in));
    a = a.toDevice(weight.getDevice(), false);
    a.attach(owner);
    NDArray b = owner.zeros(new Shape(out, config.r()), DataType.FLOAT32, weight.getDevice());
    a.setName(name + ".lora_A.weight");
    b.setName(name + ".lora_B.weight");
    LoraLinear lora = new LoraLinear(name, base, a, b, config.scaling(), config.dropout());
    loraModules.put(name, lora);
    return lora;
  }

  private Linear createBase(String name, NDArray weight, NDArray bias) {
    NDArray b = null;
    if (bias != null) {
      b = bias.toType(computeType, false);
      b.attach(owner);
      if (b != bias) {
        bias.close();
      }
    }
    if (baseFormat == BaseFormat.DENSE || LoraConfig.isOutputLayer(name)) {
      NDArray w = weight.toType(computeType, false);
      w.attach(owner);
      if (w != weight) {
        weight.close();
      }
      baseBytes += w.size() * computeType.getNumOfBytes();
      baseParams += w.size();
      return new DenseFrozenLinear(w, b);
    }
    baseParams += weight.size();
    var q = quantizer.quantize(weight, owner);
    weight.close();
    baseBytes += q.storageBytes();
    return new Nf4Linear(q, b);
  }

  /** U(-1/sqrt(in), 1/sqrt(in)) = kaiming_uniform_(a=sqrt(5)) on a (r, in) weight. */
  private float[] kaimingUniform(String name, int r, int in) {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
    double bound = 1.0 / Math.sqrt(in);
    float[] values = new float[r * in];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }
    return values;
  }

  /** The LoRA-wrapped modules by HF module path, in load order. */
  public Map<String, LoraLinear> loraModules() {
    return Collections.unmodifiableMap(loraModules);
  }

  /** Switches {@link Nf4Linear#keepDequantized} on every NF4 base this factory built. */
  public void keepDequantized(boolean on) {
    for (Linear l : bases) {
      if (l instanceof Nf4Linear nf4) {
        nf4.keepDequantized(on);
      }
    }
  }

  /**
   * Switches {@link io.loraflow.engine.quant.Nf4Tensor#cacheDecodedAbsmax} on every NF4 base this
   * factory built: +0.031 bytes per parameter for fewer ops per step (see there).
   *
   * @return bytes now held by the caches
   */
  public long cacheDecodedAbsmax(boolean on) {
    long bytes = 0;
    for (Linear l : bases) {
      if (l instanceof Nf4Linear nf4) {
        nf4.weight().cacheDecodedAbsmax(on);
        bytes += nf4.weight().cachedBytes();
      }
    }
    return bytes;
  }

  /** Bytes of native storage of the frozen base linears (codes + scales, or dense weights). */
  public long baseBytes() {
    return baseBytes;
  }

  /** Parameters of the frozen base linears (weights, not biases). */
  public long baseParams() {
    return baseParams;
  }

  public LoraConfig config() {
    return config;
  }

  /**
   * Throws when a target entry selected no linear module, naming the entry and the module names the
   * model has (so the user can fix --targets).
   */
  public void requireAllTargetsMatched() {
    List<String> unmatched = unmatchedTargets(config, allModules);
    if (!unmatched.isEmpty()) {
      throw new IllegalArgumentException(
          "LoRA target module(s) "
              + unmatched
              + " match no linear module of this model; its linear modules end in "
              + moduleSuffixes(allModules)
              + " (use one of these, a 're:<regex>' or 'all-linear')");
    }
  }

  /** Target entries of {@code config} that select none of {@code modules}. */
  public static List<String> unmatchedTargets(LoraConfig config, List<String> modules) {
    List<String> unmatched = new ArrayList<>();
    for (String t : config.targetModules()) {
      if (modules.stream().noneMatch(m -> LoraConfig.matches(t, m))) {
        unmatched.add(t);
      }
    }
    return unmatched;
  }

  /** Distinct last path components, e.g. [q_proj, k_proj, ...]. */
  public static List<String> moduleSuffixes(List<String> modules) {
    List<String> out = new ArrayList<>();
    for (String m : modules) {
      String s = m.substring(m.lastIndexOf('.') + 1);
      if (!out.contains(s)) {
        out.add(s);
      }
    }
    return out;
  }
}
