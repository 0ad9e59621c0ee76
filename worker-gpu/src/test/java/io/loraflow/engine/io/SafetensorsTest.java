package io.loraflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors against files written by the Python safetensors library. */
class SafetensorsTest {

  @TempDir Path tmp;
  private NDManager manager;

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  private static JsonNode expected() throws IOException {
    return new ObjectMapper().readTree(Fixtures.resource("io/py_written.json").toFile());
  }

  @Test
  void readsEveryDtypeThePythonLibraryWrote() throws IOException {
    JsonNode expected = expected();
    try (SafetensorsFile f = Safetensors.open(Fixtures.resource("io/py_written.safetensors"))) {
      assertEquals(Map.of("format", "pt"), f.metadata());
      assertEquals(expected.size(), f.names().size());
      for (String name : f.names()) {
        JsonNode e = expected.get(name);
        NDArray a = f.load(name, manager);
        long[] shape = new long[e.get("shape").size()];
        Arrays.setAll(shape, i -> e.get("shape").get(i).asLong());
        assertEquals(new Shape(shape), a.getShape(), name);
        JsonNode values = e.get("values");
        if (a.getDataType().isFloating()) {
          float[] want = new float[values.size()];
          for (int i = 0; i < want.length; i++) {
            want[i] = (float) values.get(i).asDouble();
          }
          // exact: fp16 and bf16 widen to float without rounding
          assertArrayEquals(want, a.toType(DataType.FLOAT32, false).toFloatArray(), name);
        } else {
          long[] want = new long[values.size()];
          for (int i = 0; i < want.length; i++) {
            want[i] = values.get(i).asLong();
          }
          long[] got = a.toType(DataType.INT64, false).toLongArray();
          assertArrayEquals(want, got, name);
        }
      }
      assertEquals(DataType.FLOAT32, f.load("bf16", manager).getDataType(), "bf16 widened");
      assertEquals(DataType.FLOAT16, f.load("bf16", manager, DataType.FLOAT16).getDataType());
      assertEquals(DataType.FLOAT16, f.load("f16", manager).getDataType());
      assertEquals(DataType.INT64, f.load("i64", manager).getDataType());
    }
  }

  @Test
  void writesTheSameBytesAsThePythonLibrary() throws IOException {
    Path ours = tmp.resolve("ours.safetensors");
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    try (SafetensorsFile f = Safetensors.open(Fixtures.resource("io/py_written.safetensors"))) {
      for (String name : f.names()) {
        if (!name.equals("bf16")) {
          tensors.put(name, f.load(name, manager));
        }
      }
    }
    Safetensors.write(ours, tensors, Map.of("format", "pt"));
    byte[] python = Files.readAllBytes(Fixtures.resource("io/py_written_nobf16.safetensors"));
    byte[] java = Files.readAllBytes(ours);
    assertEquals(
        new String(python, 8, 200, StandardCharsets.UTF_8).trim(),
        new String(java, 8, 200, StandardCharsets.UTF_8).trim(),
        "header start");
    assertArrayEquals(python, java);
  }

  @Test
  void roundTripsRandomTensors() {
    NDArray a = manager.randomNormal(new Shape(7, 13));
    NDArray h = manager.randomNormal(new Shape(4, 4, 2)).toType(DataType.FLOAT16, false);
    NDArray i = manager.arange(0, 100, 1, DataType.INT64).reshape(10, 10);
    Path file = tmp.resolve("adapter_model.safetensors");
    Safetensors.write(
        file,
        Map.of("base_model.model.lora_A.weight", a, "h", h, "i", i),
        Map.of("format", "pt", "note", "line\n\"quoted\" é"));
    Map<String, NDArray> back = Safetensors.readAll(file, manager);
    assertEquals(3, back.size());
    assertArrayEquals(a.toFloatArray(), back.get("base_model.model.lora_A.weight").toFloatArray());
    assertEquals(DataType.FLOAT16, back.get("h").getDataType());
    assertArrayEquals(
        h.toType(DataType.FLOAT32, false).toFloatArray(),
        back.get("h").toType(DataType.FLOAT32, false).toFloatArray());
    assertArrayEquals(i.toLongArray(), back.get("i").toLongArray());
    try (SafetensorsFile f = Safetensors.open(file)) {
      assertEquals("line\n\"quoted\" é", f.metadata().get("note"));
    }
    assertTrue(Files.notExists(tmp.resolve("adapter_model.safetensors.tmp")));
  }

  @Test
  void bandedReadsGiveTheSameTensors() {
    try (SafetensorsFile whole = Safetensors.open(Fixtures.resource("io/py_written.safetensors"));
        SafetensorsFile banded =
            SafetensorsFile.open(Fixtures.resource("io/py_written.safetensors"), 8)) {
      for (String name : whole.names()) {
        NDArray a = whole.load(name, manager, DataType.FLOAT32);
        NDArray b = banded.load(name, manager, DataType.FLOAT32);
        assertEquals(a.getShape(), b.getShape(), name);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray(), name);
      }
    }
  }

  @Test
  void convertsOnLoadToTheRequestedDtype() {
    try (SafetensorsFile f = Safetensors.open(Fixtures.resource("io/py_written.safetensors"))) {
      NDArray f32 = f.load("f32", manager);
      NDArray asHalf = f.load("f32", manager, DataType.FLOAT16);
      assertEquals(DataType.FLOAT16, asHalf.getDataType());
      Fixtures.assertClose(f32, asHalf.toType(DataType.FLOAT32, false), 1e-3, 1e-3, "f32->f16");
    }
  }

  // ---- bad input: one clear error naming the file (and tensor) ----

  private Path copyCut(long keepBytes) throws IOException {
    byte[] all = Files.readAllBytes(Fixtures.resource("io/py_written.safetensors"));
    Path p = tmp.resolve("cut.safetensors");
    Files.write(p, Arrays.copyOf(all, (int) Math.min(keepBytes, all.length)));
    return p;
  }

  @Test
  void truncatedDataNamesFileAndTensor() throws IOException {
    long size = Files.size(Fixtures.resource("io/py_written.safetensors"));
    Path p = copyCut(size - 3);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.open(p));
    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("tensor '"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void truncatedHeaderNamesFile() throws IOException {
    for (long keep : new long[] {0, 5, 8, 60}) {
      Path p = copyCut(keep);
      ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.open(p));
      assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }
  }

  @Test
  void corruptHeaderNamesFile() throws IOException {
    byte[] all = Files.readAllBytes(Fixtures.resource("io/py_written.safetensors"));
    all[8] = '#'; // the header's opening brace
    Path p = tmp.resolve("corrupt.safetensors");
    Files.write(p, all);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.open(p));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

    ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
    Files.write(p, huge.array());
    e = assertThrows(ModelFormatException.class, () -> Safetensors.open(p));
    assertTrue(e.getMessage().contains("header length"), e.getMessage());
  }

  @Test
  void offsetsThatDisagreeWithShapeNameTheTensor() throws IOException {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}";
    ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
    Path p = tmp.resolve("bad.safetensors");
    Files.write(p, b.array());
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.open(p));
    assertTrue(
        e.getMessage().contains("tensor 'w'") && e.getMessage().contains("needs 16"),
        e.getMessage());
  }

  @Test
  void missingTensorAndUnsupportedDtypeNameTheTensor() throws IOException {
    String header = "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}";
    ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
    Path p = tmp.resolve("f8.safetensors");
    Files.write(p, b.array());
    try (SafetensorsFile f = Safetensors.open(p)) {
      ModelFormatException e = assertThrows(ModelFormatException.class, () -> f.load("w", manager));
      assertTrue(e.getMessage().contains("F8_E4M3") && e.getMessage().contains("'w'"));
      e = assertThrows(ModelFormatException.class, () -> f.load("nope", manager));
      assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(p.toString()));
    }
  }
}
