package io.loraflow.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class LossCurveTest {
  static List<LossCurve.Point> falling() {
    List<LossCurve.Point> points = new ArrayList<>();
    for (int step = 1; step <= 50; step++) {
      points.add(new LossCurve.Point(step, 3.0 / step));
    }
    return points;
  }

  /** Pixels of the curve's colour (#1f77b4), antialiasing aside. */
  static int curvePixels(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(800, img.getWidth());
    assertEquals(450, img.getHeight());
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) & 0xffffff) == 0x1f77b4) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void aRuntimeThatCannotRenderTextStillGetsTheCurve() throws Exception {
    // what a GPU container without harfbuzz did: the first drawString throws, later ones would
    // throw NoClassDefFoundError
    AtomicInteger calls = new AtomicInteger();
    byte[] png =
        LossCurve.png(
            "training loss",
            falling(),
            (g, s, x, y) -> {
              calls.incrementAndGet();
              throw new UnsatisfiedLinkError("libharfbuzz.so.0: cannot open shared object file");
            });
    assertTrue(curvePixels(png) > 100, "the curve is drawn");
    assertEquals(1, calls.get(), "after the first failure no label is tried again");
  }

  @Test
  void labelsAreDrawnWhereTextWorks() throws Exception {
    List<String> drawn = new ArrayList<>();
    byte[] png = LossCurve.png("training loss", falling(), (g, s, x, y) -> drawn.add(s));
    assertTrue(curvePixels(png) > 100);
    assertEquals(List.of("training loss", "step", "loss", "3.000", "0.060", "1", "50"), drawn);
  }
}
