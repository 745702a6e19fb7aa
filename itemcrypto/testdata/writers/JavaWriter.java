// JavaWriter writes java-written.json: items encrypted and signed by the Java
// DynamoDB Encryption Client itself (DynamoDBEncryptor, SymmetricStaticProvider),
// with the cases where Java's canonical form differs from Python's (binary sets
// with high-bit members, strings mixing U+10000.. with U+E000..U+FFFF in string
// sets, map keys and attribute names) and every ECDSA variant.
//
// Build against aws/aws-dynamodb-encryption-java (sdk1/src/main/java) with
// AttributeValue.java beside this file standing in for the AWS SDK's bean, and
// empty stand-ins for AttributeEncryptor and DynamoDBMapper (named in javadoc
// only); see README.md here. The keys: aesKey and hmacKey of the reference
// vectors' keys.json; fresh EC key pairs, whose public halves are written out.
import com.amazonaws.services.dynamodbv2.datamodeling.encryption.DynamoDBEncryptor;
import com.amazonaws.services.dynamodbv2.datamodeling.encryption.EncryptionContext;
import com.amazonaws.services.dynamodbv2.datamodeling.encryption.EncryptionFlags;
import com.amazonaws.services.dynamodbv2.datamodeling.encryption.providers.SymmetricStaticProvider;
import com.amazonaws.services.dynamodbv2.model.AttributeValue;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.*;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

public class JavaWriter {
  static final Set<EncryptionFlags> SIGN = EnumSet.of(EncryptionFlags.SIGN);
  static final Set<EncryptionFlags> ENCRYPT = EnumSet.of(EncryptionFlags.ENCRYPT, EncryptionFlags.SIGN);

  public static void main(String[] args) throws Exception {
    SecretKey aes = new SecretKeySpec(seq(16), "AES");
    SecretKey hmac = new SecretKeySpec(seq(8), "HmacSHA256");
    StringBuilder out = new StringBuilder("{\"items\": [\n");
    String sep = "";
    for (String[] v : new String[][] {
        {"hmac", "HmacSHA256", ""},
        {"ecdsa-p256", "SHA256withECDSA", "secp256r1"},
        {"ecdsa-p384", "SHA384withECDSA", "secp384r1"},
        {"ecdsa-p521", "SHA512withECDSA", "secp521r1"},
        {"ecdsa-p256-sha384", "SHA384withECDSA", "secp256r1"}}) {
      SymmetricStaticProvider prov;
      String pub = "";
      if (v[2].isEmpty()) {
        prov = new SymmetricStaticProvider(aes, hmac);
      } else {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(v[2]));
        KeyPair kp = g.generateKeyPair();
        pub = Base64.getEncoder().encodeToString(kp.getPublic().getEncoded());
        prov = new SymmetricStaticProvider(aes, kp, Collections.singletonMap("amzn-ddb-map-signingAlg", v[1]));
      }
      DynamoDBEncryptor enc = DynamoDBEncryptor.getInstance(prov);
      for (int variant = 0; variant < (v[2].isEmpty() ? 3 : 2); variant++) {
        Map<String, AttributeValue> item = new HashMap<>();
        Map<String, Set<EncryptionFlags>> flags = new HashMap<>();
        item.put("hashKey", new AttributeValue().withN("7"));
        flags.put("hashKey", SIGN);
        item.put("rangeKey", new AttributeValue().withN(Integer.toString(variant)));
        flags.put("rangeKey", SIGN);
        if (variant < 2) { // variant 2: nothing encrypted, so the HMAC is a function of the values alone
          item.put("secret", new AttributeValue().withS("encrypted \uE000 \uD83D\uDE00"));
          flags.put("secret", ENCRYPT);
        }
        item.put("views", new AttributeValue().withN("12"));
        if (variant >= 1) { // every Java/Python divergence in the signed values
          item.put("binSet", new AttributeValue().withBS(bb(0x01), bb(0x80, 0x00), bb(0xff), bb(0x7f, 0x01)));
          item.put("strSet", new AttributeValue().withSS("a", "\uE000x", "\uD83D\uDE00", "\uFFFD"));
          Map<String, AttributeValue> m = new HashMap<>();
          m.put("\uFFFD", new AttributeValue().withN("1"));
          m.put("\uD83D\uDD11", new AttributeValue().withS("key"));
          m.put("inner", new AttributeValue().withL(new AttributeValue().withBS(bb(0x00), bb(0x90))));
          item.put("map", new AttributeValue().withM(m));
          item.put("\uE001name", new AttributeValue().withS("private use"));
          item.put("\uD83D\uDD12name", new AttributeValue().withS("supplementary"));
          item.put("zero", new AttributeValue().withN("-0"));
          item.put("long", new AttributeValue().withN("1234567890123456789012345678901234"));
        } else { // the same kinds of values, no divergence
          item.put("binSet", new AttributeValue().withBS(bb(0x01), bb(0x02)));
          item.put("strSet", new AttributeValue().withSS("a", "b"));
          item.put("zero", new AttributeValue().withN("0"));
        }
        for (String k : item.keySet()) flags.putIfAbsent(k, k.equals("views") ? EnumSet.noneOf(EncryptionFlags.class) : SIGN);
        EncryptionContext ctx = new EncryptionContext.Builder().withTableName("TableName")
            .withHashKeyName("hashKey").withRangeKeyName("rangeKey").build();
        Map<String, AttributeValue> ct = enc.encryptRecord(item, flags, ctx);
        out.append(sep).append("{\"name\": \"").append(v[0]).append(new String[] {"-plain", "-divergent", "-divergent-sign-only"}[variant])
            .append("\", \"signingAlg\": \"").append(v[1]).append("\", \"publicKey\": \"").append(pub)
            .append("\", \"item\": ");
        writeItem(out, ct);
        out.append("}");
        sep = ",\n";
      }
    }
    System.out.print(out.append("\n]}\n"));
  }

  static byte[] seq(int n) { byte[] b = new byte[n]; for (int i = 0; i < n; i++) b[i] = (byte) i; return b; }

  static ByteBuffer bb(int... v) { byte[] b = new byte[v.length]; for (int i = 0; i < v.length; i++) b[i] = (byte) v[i]; return ByteBuffer.wrap(b); }

  static void writeItem(StringBuilder o, Map<String, AttributeValue> m) {
    o.append("{");
    String sep = "";
    for (Map.Entry<String, AttributeValue> e : new TreeMap<>(m).entrySet()) {
      o.append(sep); str(o, e.getKey()); o.append(": "); value(o, e.getValue()); sep = ", ";
    }
    o.append("}");
  }

  static void value(StringBuilder o, AttributeValue v) {
    if (v.getS() != null) { o.append("{\"S\": "); str(o, v.getS()); o.append("}"); }
    else if (v.getN() != null) { o.append("{\"N\": "); str(o, v.getN()); o.append("}"); }
    else if (v.getB() != null) { o.append("{\"B\": \"").append(b64(v.getB())).append("\"}"); }
    else if (v.getSS() != null) { o.append("{\"SS\": ["); String s = ""; for (String x : v.getSS()) { o.append(s); str(o, x); s = ", "; } o.append("]}"); }
    else if (v.getNS() != null) { o.append("{\"NS\": ["); String s = ""; for (String x : v.getNS()) { o.append(s); str(o, x); s = ", "; } o.append("]}"); }
    else if (v.getBS() != null) { o.append("{\"BS\": ["); String s = ""; for (ByteBuffer x : v.getBS()) { o.append(s).append("\"").append(b64(x)).append("\""); s = ", "; } o.append("]}"); }
    else if (v.getL() != null) { o.append("{\"L\": ["); String s = ""; for (AttributeValue x : v.getL()) { o.append(s); value(o, x); s = ", "; } o.append("]}"); }
    else if (v.getM() != null) { o.append("{\"M\": "); writeItem(o, v.getM()); o.append("}"); }
    else throw new IllegalArgumentException("unexpected value");
  }

  static String b64(ByteBuffer b) { ByteBuffer d = b.duplicate(); byte[] a = new byte[d.remaining()]; d.get(a); return Base64.getEncoder().encodeToString(a); }

  static void str(StringBuilder o, String s) {
    o.append('"');
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') o.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) o.append(String.format("\\u%04x", (int) c));
      else o.append(c);
    }
    o.append('"');
  }
}
