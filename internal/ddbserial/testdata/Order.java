// Writes java-order.json: pairs of strings and byte strings with the sign of
// String.compareTo and ByteBuffer.compareTo on a JDK 17 (javac Order.java && java Order > java-order.json).
import java.nio.ByteBuffer;
import java.util.*;
import java.nio.charset.StandardCharsets;
public class Order {
  public static void main(String[] a) throws Exception {
    Random r = new Random(11);
    int[] pool = {0x41, 0x7A, 0xE9, 0x3A8, 0x4E2D, 0xD7FF, 0xE000, 0xF8FF, 0xFB01, 0xFFFD, 0xFFFF, 0x10000, 0x1D11E, 0x1F600, 0x10FFFF};
    StringBuilder out = new StringBuilder("{\"strings\":[\n");
    for (int i = 0; i < 300; i++) {
      String x = rs(r, pool), y = rs(r, pool);
      out.append(String.format("[%s,%s,%d],\n", q(x), q(y), Integer.signum(x.compareTo(y))));
    }
    out.setLength(out.length()-2); out.append("\n],\"bytes\":[\n");
    for (int i = 0; i < 300; i++) {
      byte[] x = rb(r), y = rb(r);
      out.append(String.format("[\"%s\",\"%s\",%d],\n", Base64.getEncoder().encodeToString(x), Base64.getEncoder().encodeToString(y), Integer.signum(ByteBuffer.wrap(x).compareTo(ByteBuffer.wrap(y)))));
    }
    out.setLength(out.length()-2); out.append("\n]}\n");
    System.out.print(out);
  }
  static String rs(Random r, int[] pool) { StringBuilder b = new StringBuilder(); int n = r.nextInt(4); for (int i=0;i<n;i++) b.appendCodePoint(pool[r.nextInt(pool.length)]); return b.toString(); }
  static byte[] rb(Random r) { byte[] b = new byte[r.nextInt(4)]; int[] pool={0x00,0x01,0x7F,0x80,0x81,0xFE,0xFF}; for (int i=0;i<b.length;i++) b[i]=(byte)pool[r.nextInt(pool.length)]; return b; }
  static String q(String s) { StringBuilder b = new StringBuilder("\""); s.codePoints().forEach(c -> { if (c < 0x80) b.appendCodePoint(c); else if (c < 0x10000) b.append(String.format("\\u%04x", c)); else { for (char ch : Character.toChars(c)) b.append(String.format("\\u%04x", (int) ch)); } }); return b.append("\"").toString(); }
}
