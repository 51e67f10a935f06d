package dev.xatm.bench.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Committed tx/s against client threads, one line per variant, drawn with plain Java2D (headless):
 * no charting dependency for one picture. The x axis is logarithmic (1, 8, 32, 64 threads).
 */
public final class Chart {
    private static final Color[] COLORS = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private Chart() {
    }

    /** {@code series}: label -> (threads -> tx/s), in legend order. */
    public static void write(Path file, String title, String subtitle, Map<String, TreeMap<Integer, Double>> series) throws IOException {
        int w = 1000;
        int h = 620;
        int left = 90;
        int right = 300;
        int top = 70;
        int bottom = 70;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);

        TreeMap<Integer, Boolean> xs = new TreeMap<>();
        double maxY = 1;
        for (TreeMap<Integer, Double> s : series.values()) {
            for (Map.Entry<Integer, Double> e : s.entrySet()) {
                xs.put(e.getKey(), true);
                if (!e.getValue().isNaN()) {
                    maxY = Math.max(maxY, e.getValue());
                }
            }
        }
        if (xs.isEmpty()) {
            xs.put(1, true);
        }
        double step = niceStep(maxY * 1.1 / 6);
        double yTop = Math.ceil(maxY * 1.08 / step) * step;
        double xMin = Math.log(xs.firstKey());
        double xMax = Math.log(Math.max(xs.lastKey(), xs.firstKey() + 1));
        int plotW = w - left - right;
        int plotH = h - top - bottom;

        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.drawString(title, left, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.DARK_GRAY);
        g.drawString(subtitle, left, 50);

        // grid and y labels
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (double y = 0; y <= yTop + 1e-9; y += step) {
            int py = top + plotH - (int) Math.round(y / yTop * plotH);
            g.setColor(new Color(0xE6E6E6));
            g.drawLine(left, py, left + plotW, py);
            g.setColor(Color.DARK_GRAY);
            String label = String.format(Locale.ROOT, "%,.0f", y);
            g.drawString(label, left - 8 - fm.stringWidth(label), py + 4);
        }
        for (int x : xs.keySet()) {
            int px = xPixel(x, xMin, xMax, left, plotW);
            g.setColor(new Color(0xE6E6E6));
            g.drawLine(px, top, px, top + plotH);
            g.setColor(Color.DARK_GRAY);
            String label = Integer.toString(x);
            g.drawString(label, px - fm.stringWidth(label) / 2, top + plotH + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, plotW, plotH);
        g.drawString("client threads (log scale)", left + plotW / 2 - 70, top + plotH + 42);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString("committed transactions / s", -(top + plotH / 2 + 80), 30);
        rotated.dispose();

        // series
        int i = 0;
        int legendY = top + 10;
        for (Map.Entry<String, TreeMap<Integer, Double>> s : series.entrySet()) {
            Color c = COLORS[i % COLORS.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2.5f));
            Integer px0 = null;
            Integer py0 = null;
            for (Map.Entry<Integer, Double> p : s.getValue().entrySet()) {
                if (p.getValue().isNaN()) {
                    px0 = null;
                    continue;
                }
                int px = xPixel(p.getKey(), xMin, xMax, left, plotW);
                int py = top + plotH - (int) Math.round(p.getValue() / yTop * plotH);
                if (px0 != null) {
                    g.drawLine(px0, py0, px, py);
                }
                g.fill(new Ellipse2D.Double(px - 4, py - 4, 8, 8));
                px0 = px;
                py0 = py;
            }
            g.fillRect(left + plotW + 20, legendY - 5, 22, 4);
            g.setColor(Color.BLACK);
            g.drawString(s.getKey(), left + plotW + 50, legendY);
            legendY += 22;
            i++;
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static int xPixel(int threads, double xMin, double xMax, int left, int plotW) {
        double f = xMax == xMin ? 0.5 : (Math.log(threads) - xMin) / (xMax - xMin);
        return left + 20 + (int) Math.round(f * (plotW - 40));
    }

    private static double niceStep(double raw) {
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    /** Convenience for tests and previews: an ordered map builder. */
    public static Map<String, TreeMap<Integer, Double>> series(List<String> labels) {
        Map<String, TreeMap<Integer, Double>> m = new LinkedHashMap<>();
        labels.forEach(l -> m.put(l, new TreeMap<>()));
        return m;
    }
}
