package com.amazonaws.services.dynamodbv2.model;
import java.nio.ByteBuffer;
import java.util.*;
/** Minimal stand-in for the AWS SDK v1 AttributeValue: the bean the DDBEC reads. */
public class AttributeValue {
  private String s, n; private ByteBuffer b; private List<String> ss, ns; private List<ByteBuffer> bs;
  private Map<String, AttributeValue> m; private List<AttributeValue> l; private Boolean nul, bool;
  public String getS() { return s; } public void setS(String v) { s = v; } public AttributeValue withS(String v) { s = v; return this; }
  public String getN() { return n; } public void setN(String v) { n = v; } public AttributeValue withN(String v) { n = v; return this; }
  public ByteBuffer getB() { return b; } public void setB(ByteBuffer v) { b = v; } public AttributeValue withB(ByteBuffer v) { b = v; return this; }
  public List<String> getSS() { return ss; } public void setSS(Collection<String> v) { ss = v == null ? null : new ArrayList<>(v); } public AttributeValue withSS(String... v) { ss = Arrays.asList(v); return this; }
  public List<String> getNS() { return ns; } public void setNS(Collection<String> v) { ns = v == null ? null : new ArrayList<>(v); } public AttributeValue withNS(String... v) { ns = Arrays.asList(v); return this; }
  public List<ByteBuffer> getBS() { return bs; } public void setBS(Collection<ByteBuffer> v) { bs = v == null ? null : new ArrayList<>(v); } public AttributeValue withBS(ByteBuffer... v) { bs = Arrays.asList(v); return this; }
  public Map<String, AttributeValue> getM() { return m; } public void setM(Map<String, AttributeValue> v) { m = v; } public AttributeValue withM(Map<String, AttributeValue> v) { m = v; return this; }
  public List<AttributeValue> getL() { return l; } public void setL(Collection<AttributeValue> v) { l = v == null ? null : new ArrayList<>(v); } public AttributeValue withL(AttributeValue... v) { l = Arrays.asList(v); return this; }
  public Boolean getNULL() { return nul; } public void setNULL(Boolean v) { nul = v; } public AttributeValue withNULL(Boolean v) { nul = v; return this; }
  public Boolean getBOOL() { return bool; } public void setBOOL(Boolean v) { bool = v; } public AttributeValue withBOOL(Boolean v) { bool = v; return this; }
}
