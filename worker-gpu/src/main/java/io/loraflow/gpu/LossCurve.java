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

/** Renders training loss against step as a PNG (java.awt, headless). */
final class LossCurve {
  private static final int WIDTH = 800;
  private static final int HEIGHT = 450;
  private static final int MARGIN = 60;

  /** One point of the curve. */
  record Point(long step, double loss) {}

  private LossCurve() {}

  static byte[] png(String title, List<Point> points) {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      g.setColor(Color.DARK_GRAY);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      g.drawString(title, MARGIN, 30);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      int x0 = MARGIN;
      int y0 = HEIGHT - MARGIN;
      int plotW = WIDTH - 2 * MARGIN;
      int plotH = HEIGHT - 2 * MARGIN;
      g.drawLine(x0, y0, x0 + plotW, y0);
      g.drawLine(x0, y0, x0, y0 - plotH);
      g.drawString("step", x0 + plotW / 2, HEIGHT - 20);
      g.drawString("loss", 10, y0 - plotH / 2);
      List<Point> finite = points.stream().filter(p -> Double.isFinite(p.loss())).toList();
      if (finite.isEmpty()) {
        g.drawString("no steps", x0 + 10, y0 - plotH / 2);
      } else {
        long minStep = finite.get(0).step();
        long maxStep = Math.max(minStep + 1, finite.get(finite.size() - 1).step());
        double minLoss = finite.stream().mapToDouble(Point::loss).min().orElseThrow();
        double maxLoss = finite.stream().mapToDouble(Point::loss).max().orElseThrow();
        if (maxLoss - minLoss < 1e-9) {
          maxLoss = minLoss + 1;
        }
        g.drawString(String.format("%.3f", maxLoss), 5, y0 - plotH + 5);
        g.drawString(String.format("%.3f", minLoss), 5, y0);
        g.drawString(Long.toString(minStep), x0, y0 + 15);
        g.drawString(Long.toString(maxStep), x0 + plotW - 20, y0 + 15);
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
}
