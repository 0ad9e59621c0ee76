package io.loraflow.gpu;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Renders training loss against step as a PNG (java.awt, headless). The labels need the JDK's font
 * manager, which loads native libraries (libfontmanager, and through it the system's harfbuzz and
 * freetype) that a minimal GPU container may lack; then the curve is drawn without labels instead
 * of failing the training that produced it.
 */
final class LossCurve {
  private static final int WIDTH = 800;
  private static final int HEIGHT = 450;
  private static final int MARGIN = 60;

  /** One point of the curve. */
  record Point(long step, double loss) {}

  private LossCurve() {}

  /** Draws one label; {@link Graphics2D#drawString(String, int, int)} outside tests. */
  interface Text {
    void draw(Graphics2D g, String s, int x, int y);
  }

  static byte[] png(String title, List<Point> points) {
    return png(title, points, Graphics2D::drawString);
  }

  /** As {@link #png(String, List)} with the labels drawn by {@code text}. */
  static byte[] png(String title, List<Point> points, Text text) {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    Labels labels = new Labels(g, text);
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      g.setColor(Color.DARK_GRAY);
      labels.font(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      labels.draw(title, MARGIN, 30);
      labels.font(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      int x0 = MARGIN;
      int y0 = HEIGHT - MARGIN;
      int plotW = WIDTH - 2 * MARGIN;
      int plotH = HEIGHT - 2 * MARGIN;
      g.drawLine(x0, y0, x0 + plotW, y0);
      g.drawLine(x0, y0, x0, y0 - plotH);
      labels.draw("step", x0 + plotW / 2, HEIGHT - 20);
      labels.draw("loss", 10, y0 - plotH / 2);
      List<Point> finite = points.stream().filter(p -> Double.isFinite(p.loss())).toList();
      if (finite.isEmpty()) {
        labels.draw("no steps", x0 + 10, y0 - plotH / 2);
      } else {
        long minStep = finite.get(0).step();
        long maxStep = Math.max(minStep + 1, finite.get(finite.size() - 1).step());
        double minLoss = finite.stream().mapToDouble(Point::loss).min().orElseThrow();
        double maxLoss = finite.stream().mapToDouble(Point::loss).max().orElseThrow();
        if (maxLoss - minLoss < 1e-9) {
          maxLoss = minLoss + 1;
        }
        labels.draw(String.format("%.3f", maxLoss), 5, y0 - plotH + 5);
        labels.draw(String.format("%.3f", minLoss), 5, y0);
        labels.draw(Long.toString(minStep), x0, y0 + 15);
        labels.draw(Long.toString(maxStep), x0 + plotW - 20, y0 + 15);
        Path2D.Double line = new Path2D.Double();
        for (int i = 0; i < finite.size(); i++) {
          Point p = finite.get(i);
          double x = x0 + plotW * (double) (p.step() - minStep) / (maxStep - minStep);
          double y = y0 - plotH * (p.loss() - minLoss) / (maxLoss - minLoss);
          if (i == 0) {
            line.moveTo(x, y);
          } else {
            line.lineTo(x, y);
          }
        }
        g.setColor(new Color(0x1f77b4));
        g.setStroke(new BasicStroke(2f));
        g.draw(line);
      }
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode loss curve PNG", e);
    }
    return out.toByteArray();
  }

  /** The labels: drawn while the font manager works, skipped for good after its first failure. */
  private static final class Labels {
    private final Graphics2D g;
    private final Text text;
    private boolean broken;

    Labels(Graphics2D g, Text text) {
      this.g = g;
      this.text = text;
    }

    void font(Font f) {
      if (!broken) {
        g.setFont(f);
      }
    }

    void draw(String s, int x, int y) {
      if (broken) {
        return;
      }
      try {
        text.draw(g, s, x, y);
      } catch (LinkageError e) {
        broken = true;
        org.slf4j.LoggerFactory.getLogger(LossCurve.class)
            .warn(
                "loss curve drawn without labels: the JDK cannot render text here ({})",
                e.toString());
      }
    }
  }
}
