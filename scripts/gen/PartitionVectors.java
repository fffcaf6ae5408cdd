// Computes partitioning test vectors with the Java producer's own code and writes them as JSON:
//   keys:   Utils.murmur2, Utils.toPositive and BuiltInPartitioner.partitionForKey for many keys
//   sticky: which partition BuiltInPartitioner switches to for a given random draw, with and
//           without adaptive queue sizes and with leaderless partitions
// Run by scripts/gen/partition-vectors.ts, which compiles it next to the kafka-clients jar.
//
// It lives in Kafka's package because peekCurrentPartitionInfo and randomPartition are
// package-private; the latter is overridden to feed chosen random draws. Package-private access
// needs the same class loader as well, which is why the script compiles it with javac and puts
// it on the class path instead of launching the source file directly.
package org.apache.kafka.clients.producer.internals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.common.utils.Utils;

public class PartitionVectors {
  static final int[] PARTITION_COUNTS = {1, 2, 3, 7, 12, 100, 1000};
  static final String TOPIC = "t";

  public static void main(String[] args) throws IOException {
    StringBuilder json = new StringBuilder();
    json.append("{\n  \"generatedBy\": \"scripts/gen/partition-vectors.ts (Java: scripts/gen/PartitionVectors.java)\",\n");
    json.append("  \"kafkaVersion\": \"").append(AppInfoParser.getVersion()).append("\",\n");
    json.append("  \"partitionCounts\": ").append(Arrays.toString(PARTITION_COUNTS)).append(",\n");
    json.append("  \"keys\": [\n");
    List<String> rows = new ArrayList<>();
    for (Key key : keys()) rows.add(keyRow(key));
    json.append(String.join(",\n", rows)).append("\n  ],\n");
    json.append("  \"sticky\": [\n");
    rows.clear();
    for (Scenario s : scenarios()) rows.add(stickyRow(s));
    json.append(String.join(",\n", rows)).append("\n  ]\n}\n");
    Files.writeString(Path.of(args[0]), json.toString());
  }

  // ---- keyed partitioning ----

  record Key(String name, String text, byte[] bytes) {}

  static String keyRow(Key key) {
    int hash = Utils.murmur2(key.bytes);
    int positive = Utils.toPositive(hash);
    int[] partitions = new int[PARTITION_COUNTS.length];
    for (int i = 0; i < PARTITION_COUNTS.length; i++) {
      int n = PARTITION_COUNTS[i];
      partitions[i] = BuiltInPartitioner.partitionForKey(key.bytes, n);
      // The producer's real path must equal the formula the TypeScript side implements.
      if (partitions[i] != positive % n) throw new AssertionError(key.name + ": partitionForKey differs at n=" + n);
    }
    StringBuilder row = new StringBuilder("    {\"name\": ").append(quote(key.name));
    if (key.text != null) row.append(", \"text\": ").append(quote(key.text));
    row.append(", \"hex\": \"").append(hex(key.bytes)).append('"');
    row.append(", \"murmur2\": ").append(hash).append(", \"positive\": ").append(positive);
    return row.append(", \"partitions\": ").append(Arrays.toString(partitions)).append('}').toString();
  }

  static List<Key> keys() {
    List<Key> keys = new ArrayList<>();
    keys.add(new Key("empty", null, new byte[0]));
    // Every tail length, with low bytes and with high-bit bytes: Java bytes are signed, so a
    // missing `& 0xff` would only show up with the latter.
    for (int len = 1; len <= 7; len++) {
      byte[] low = new byte[len];
      byte[] high = new byte[len];
      byte[] ones = new byte[len];
      for (int i = 0; i < len; i++) {
        low[i] = (byte) (i + 1);
        high[i] = (byte) (0x80 | (i * 37));
        ones[i] = (byte) 0xff;
      }
      keys.add(new Key("ascending " + len, null, low));
      keys.add(new Key("high-bit " + len, null, high));
      keys.add(new Key("0xff x " + len, null, ones));
    }
    String[] texts = {
      "a", "ab", "abc", "abcd", "key", "hello", "kafka", "kafka-wire", "0", "1", "42", "user-42",
      "order:1234567890", "The quick brown fox jumps over the lazy dog",
      "ключ", "日本語のキー", "naïve café", "Ελληνικά", "🚀🔥", "emoji 👩‍💻 mixed",
    };
    for (String text : texts) keys.add(new Key("utf8 " + text, text, text.getBytes(StandardCharsets.UTF_8)));
    // What IntegerSerializer and LongSerializer produce: big-endian two's complement.
    for (int v : new int[] {0, 1, -1, 42, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      keys.add(new Key("int32 " + v, null, ByteBuffer.allocate(4).putInt(v).array()));
    }
    for (long v : new long[] {0L, 1L, -1L, 1234567890123L, Long.MIN_VALUE}) {
      keys.add(new Key("int64 " + v, null, ByteBuffer.allocate(8).putLong(v).array()));
    }
    Random random = new Random(0x6b61666bL);
    for (int len = 0; len <= 40; len++) keys.add(new Key("random " + len, null, randomBytes(random, len)));
    for (int i = 0; i < 30; i++) {
      int len = 41 + random.nextInt(160);
      keys.add(new Key("random " + len + " #" + i, null, randomBytes(random, len)));
    }
    for (int len : new int[] {255, 256, 1023, 1024, 4096, 16385}) {
      keys.add(new Key("long " + len, null, randomBytes(random, len)));
    }
    return keys;
  }

  static byte[] randomBytes(Random random, int len) {
    byte[] bytes = new byte[len];
    random.nextBytes(bytes);
    return bytes;
  }

  // ---- sticky partition switch ----

  /** queueSizes is indexed by partition id (null: not adaptive); leaderless partitions have no leader. */
  record Scenario(String name, int partitionCount, Set<Integer> leaderless, int[] queueSizes) {}

  /** A partitioner whose random draw is chosen, so the switch can be replayed in TypeScript. */
  static final class FixedDraw extends BuiltInPartitioner {
    private final int draw;

    FixedDraw(int draw) {
      super(new LogContext(), TOPIC, 16384);
      this.draw = draw;
    }

    @Override
    int randomPartition() {
      return draw;
    }
  }

  static String stickyRow(Scenario s) {
    Cluster cluster = cluster(s);
    List<Integer> available = new ArrayList<>();
    for (PartitionInfo p : cluster.availablePartitionsForTopic(TOPIC)) available.add(p.partition());
    Collections.sort(available);
    List<String> draws = new ArrayList<>();
    for (int draw : draws(s.name)) {
      FixedDraw partitioner = new FixedDraw(draw);
      if (s.queueSizes != null) loadStats(partitioner, s, available);
      int partition = partitioner.peekCurrentPartitionInfo(cluster).partition();
      draws.add("[" + draw + ", " + partition + "]");
    }
    StringBuilder row = new StringBuilder("    {\"name\": ").append(quote(s.name));
    row.append(", \"partitionCount\": ").append(s.partitionCount);
    row.append(", \"available\": ").append(available);
    row.append(", \"queueSizes\": ").append(s.queueSizes == null ? "null" : Arrays.toString(s.queueSizes));
    return row.append(", \"draws\": [").append(String.join(", ", draws)).append("]}").toString();
  }

  /**
   * Feeds queue sizes the way RecordAccumulator#partitionReady does: arrays sized for every
   * partition, filled in partition order for partitions that have a leader, logical length = how
   * many were filled.
   */
  static void loadStats(BuiltInPartitioner partitioner, Scenario s, List<Integer> available) {
    int[] sizes = new int[s.partitionCount];
    int[] ids = new int[s.partitionCount];
    int length = 0;
    for (int p : available) {
      sizes[length] = s.queueSizes[p];
      ids[length] = p;
      length++;
    }
    partitioner.updatePartitionLoadStats(sizes, ids, length);
  }

  static Cluster cluster(Scenario s) {
    Node node = new Node(1, "localhost", 9092);
    Node[] replicas = {node};
    List<PartitionInfo> partitions = new ArrayList<>();
    for (int p = 0; p < s.partitionCount; p++) {
      Node leader = s.leaderless.contains(p) ? null : node;
      partitions.add(new PartitionInfo(TOPIC, p, leader, replicas, replicas));
    }
    return new Cluster("c", List.of(node), partitions, Set.of(), Set.of());
  }

  static int[] draws(String seed) {
    int[] fixed = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99, 100, 1000, Integer.MAX_VALUE, Integer.MAX_VALUE - 1};
    Random random = new Random(seed.hashCode());
    int[] draws = Arrays.copyOf(fixed, fixed.length + 40);
    for (int i = fixed.length; i < draws.length; i++) draws[i] = Utils.toPositive(random.nextInt());
    return draws;
  }

  static List<Scenario> scenarios() {
    List<Scenario> list = new ArrayList<>();
    list.add(new Scenario("uniform, all have leaders", 6, Set.of(), null));
    list.add(new Scenario("uniform, 1 and 4 leaderless", 6, Set.of(1, 4), null));
    list.add(new Scenario("uniform, none has a leader", 5, Set.of(0, 1, 2, 3, 4), null));
    list.add(new Scenario("uniform, one partition", 1, Set.of(), null));
    list.add(new Scenario("adaptive, Java's example 0 3 1", 3, Set.of(), new int[] {0, 3, 1}));
    list.add(new Scenario("adaptive, all queues equal", 6, Set.of(), new int[] {2, 2, 2, 2, 2, 2}));
    list.add(new Scenario("adaptive, all queues equal, 2 leaderless", 6, Set.of(2), new int[] {2, 2, 2, 2, 2, 2}));
    list.add(new Scenario("adaptive, 2 leaderless", 6, Set.of(2), new int[] {5, 0, 7, 1, 9, 3}));
    list.add(new Scenario("adaptive, one partition", 1, Set.of(), new int[] {7}));
    list.add(new Scenario("adaptive, none has a leader", 4, Set.of(0, 1, 2, 3), new int[] {1, 2, 3, 4}));
    Random random = new Random(794);
    list.add(randomScenario("adaptive, 12 partitions", 12, 0.2, 6, random));
    list.add(randomScenario("adaptive, 1000 partitions", 1000, 0.05, 20, random));
    return list;
  }

  static Scenario randomScenario(String name, int count, double leaderlessShare, int maxQueue, Random random) {
    Set<Integer> leaderless = new HashSet<>();
    int[] sizes = new int[count];
    for (int p = 0; p < count; p++) {
      if (random.nextDouble() < leaderlessShare) leaderless.add(p);
      sizes[p] = random.nextInt(maxQueue + 1);
    }
    return new Scenario(name, count, leaderless, sizes);
  }

  // ---- JSON ----

  static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) s.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    return s.toString();
  }

  static String quote(String s) {
    StringBuilder q = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') q.append('\\').append(c);
      else if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
      else q.append(c);
    }
    return q.append('"').toString();
  }
}
