// Kafka's own Java producer (org.apache.kafka.clients.producer.KafkaProducer, the
// kafka-clients jar of the run's Kafka version) through its asynchronous API:
// send(record, callback), one callback per record.
//
// The Java side of bench/lib/child.ts and bench/clients/go/child: the config JSON
// (bench/lib/protocol.ts ChildConfig) as the first argument, a warm-up phase to the
// measured topic, then the measured phase, one "BENCH_RESULT {json}" line on stdout.
// bench/run.ts compiles this file with javac into bench/.bin/java-producer/ against the
// run's Kafka jars (when the class is missing or older than this file) and runs it with
// the JVM flags of Kafka's kafka-producer-perf-test.sh (bench/lib/java.ts
// PERF_JVM_OPTIONS) and the tools' logging config (WARN and up, on stderr). Unlike
// ProducerPerformance it sends the scenarios' keys and realistic records, so Java is in
// every scenario.
//
// acks=all, enable.idempotence=true, linger.ms=5, compression.type as the scenario says,
// Java's defaults otherwise: batch.size 16384, buffer.memory 32 MiB (send() blocks when it
// is full, as it does for a user, up to max.block.ms), 5 requests in flight per
// connection, the built-in partitioner (murmur2 of the key for keyed records; keyless
// records stick to a partition for about batch.size bytes, KIP-794). Each record is a new
// ProducerRecord<byte[], byte[]> over the same key and value arrays (ByteArraySerializer
// hands the array over as it is). The Pump keeps at most `window` records unacknowledged
// and paces at the config's rate, as the Node and Go Pumps do. Latency is per record, from
// send() to its callback (every n-th record is timed).
//
// CPU of the measured phase is the JVM's process CPU time
// (com.sun.management.OperatingSystemMXBean.getProcessCpuTime(): every thread, GC and JIT
// included). On Linux that is times(2), in clock ticks of 10 ms, coarser than the
// getrusage and process.cpuUsage() of the Go and Node runners; its user/system split is
// read from /proc/self/stat, the same kernel counters, at the same moment. A short run's
// CPU is much of it the JIT compiling the client (the compiler threads count too): a note
// gives the JIT's compile time and the GC's collections during the measured phase. Peak
// RSS is /proc/self/status VmHWM.
//
// Options (`--opt java-producer.KEY=VALUE`): window (records unacknowledged at most;
// default as the other runners': 100,000 or what fits 32 MiB, whichever is less); any
// other KEY is a producer property, e.g. batch.size=65536, linger.ms=10,
// enable.idempotence=false.
//
// Java 17, nothing but the Kafka jars: the small JSON reader and writer below cover what
// the protocol exchanges.

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public final class JavaProducer {
  /** bench/lib/protocol.ts RESULT_PREFIX. */
  static final String RESULT_PREFIX = "BENCH_RESULT ";
  /** bench/lib/protocol.ts PACE_SLICE_MS, in nanoseconds. */
  static final long PACE_SLICE_NS = 1_000_000L;
  /** Records handed over between window checks, as the other Pumps. */
  static final int CHUNK = 1000;

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      System.err.println("error: " + t);
      t.printStackTrace();
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    if (args.length < 1) throw new IllegalArgumentException("usage: JavaProducer <config JSON>");
    Map<String, Object> config = Json.object(Json.parse(args[0]));
    String client = Json.string(config, "client");
    String topic = Json.string(config, "topic");
    String warmupTopic = Json.string(config, "warmupTopic");
    int records = Json.integer(config, "records", 0);
    int warmupRecords = Json.integer(config, "warmupRecords", 0);
    int recordSize = Json.integer(config, "recordSize", 0);
    int keyCount = Json.integer(config, "keys", 0);
    String recordsFile = config.get("recordsFile") instanceof String s ? s : null;
    String compression = Json.string(config, "compression");
    int sampleEvery = Math.max(1, Json.integer(config, "latencySampleEvery", 1));
    long rate = Json.integer(config, "rate", 0);
    Map<String, String> options = new LinkedHashMap<>();
    if (config.get("options") instanceof Map<?, ?> given) {
      for (Map.Entry<?, ?> e : given.entrySet()) options.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
    }

    byte[] payload = makePayload(recordSize);
    byte[][] keys = null;
    if (keyCount > 0) {
      keys = new byte[keyCount][];
      for (int i = 0; i < keyCount; i++) keys[i] = String.format("key-%08d", i).getBytes(StandardCharsets.US_ASCII);
    }
    Pool pool = recordsFile == null ? null : Pool.read(Path.of(recordsFile));

    // The runner's own option; everything else is the producer's.
    int window = Math.max(1, options.containsKey("window") ? parseInt(client, "window", options.remove("window")) : Math.min(100_000, 32 * 1024 * 1024 / (recordSize + 64)));
    Map<String, Object> props = new LinkedHashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Json.string(config, "bootstrap"));
    props.put(ProducerConfig.CLIENT_ID_CONFIG, Json.string(config, "clientId"));
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    props.putAll(options);
    Properties properties = new Properties();
    properties.putAll(props);

    Map<String, Object> settings = new LinkedHashMap<>(props);
    settings.remove(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
    settings.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "default (16384)");
    settings.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, "default (33554432)");
    settings.putIfAbsent(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "default (5)");
    settings.put("api", "KafkaProducer.send(ProducerRecord<byte[], byte[]>, Callback)");
    settings.put("partitioner", props.containsKey(ProducerConfig.PARTITIONER_CLASS_CONFIG)
        ? props.get(ProducerConfig.PARTITIONER_CLASS_CONFIG)
        : "built-in (murmur2 of the key; keyless records sticky per batch.size, KIP-794)");
    settings.put("window", window);
    settings.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
        + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));

    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties, new ByteArraySerializer(), new ByteArraySerializer());
    // What Ping is to the Go runners: connections and the topic's metadata before any phase.
    producer.partitionsFor(topic);
    if (!warmupTopic.equals(topic)) producer.partitionsFor(warmupTopic);

    if (warmupRecords > 0) {
      // Paced at the measured phase's rate, if it has one, as the other runners' warm-up.
      Phase warmup = new Phase(warmupTopic, warmupRecords, payload, keys, pool, sampleEvery, rate);
      Outcome outcome = produce(producer, warmup, window);
      if (outcome.failed > 0) throw new IllegalStateException("warm-up: " + outcome.failed + " records failed: " + outcome.firstError);
    }

    Phase phase = new Phase(topic, records, payload, keys, pool, sampleEvery, rate);
    JvmWork workBefore = JvmWork.now();
    Cpu before = Cpu.now();
    long started = System.nanoTime();
    Outcome outcome = produce(producer, phase, window);
    long elapsedNs = System.nanoTime() - started;
    Cpu after = Cpu.now();
    JvmWork workAfter = JvmWork.now();

    try {
      producer.flush();
      producer.close(Duration.ofSeconds(30));
    } catch (RuntimeException e) {
      System.err.println("close: " + e);
    }
    Cpu total = Cpu.now();

    List<String> notes = new ArrayList<>();
    Map<String, Object> cpu = new LinkedHashMap<>();
    double measuredS = (after.totalNs - before.totalNs) / 1e9;
    if (before.split && after.split) {
      double systemS = (after.systemTicks - before.systemTicks) / (double) Cpu.TICKS_PER_SECOND;
      cpu.put("measuredUserS", seconds(measuredS - systemS));
      cpu.put("measuredSystemS", seconds(systemS));
      notes.add("CPU: OperatingSystemMXBean.getProcessCpuTime() (times(2): every thread, in 10 ms ticks), user/system split from /proc/self/stat");
    } else {
      cpu.put("measuredUserS", seconds(measuredS));
      cpu.put("measuredSystemS", 0.0);
      notes.add("CPU: OperatingSystemMXBean.getProcessCpuTime() (every thread, in 10 ms ticks), all of it under measuredUserS: /proc/self/stat did not match it, so no user/system split");
    }
    cpu.put("processS", seconds(total.totalNs / 1e9));
    // The measured CPU includes the JIT's and the GC's threads; how much of it they were is
    // what to look at before comparing a short run's CPU with the Go runners'.
    notes.add(workAfter.since(workBefore));

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("client", client);
    result.put("version", AppInfoParser.getVersion());
    result.put("idempotent", "true".equalsIgnoreCase(String.valueOf(props.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG))));
    result.put("compression", compression);
    result.put("records", records);
    result.put("acked", outcome.acked);
    result.put("failed", outcome.failed);
    if (outcome.firstError != null) result.put("firstError", outcome.firstError);
    result.put("elapsedMs", Math.round(elapsedNs / 1e3) / 1e3);
    result.put("latency", phase.summary());
    result.put("cpu", cpu);
    result.put("maxRssKiB", peakRssKiB());
    result.put("settings", settings);
    result.put("notes", notes);
    if (rate > 0) {
      Map<String, Object> paced = new LinkedHashMap<>();
      paced.put("rate", rate);
      paced.put("droppedFromSchedule", outcome.droppedFromSchedule);
      result.put("paced", paced);
    }
    System.out.println(RESULT_PREFIX + Json.write(result));
    System.out.flush();
    // The result is out; no producer thread may keep the JVM waiting.
    System.exit(0);
  }

  /** Ticks subtracted in floating point leave digits like 1.0699999999999998: to the microsecond, as the other runners report. */
  static double seconds(double s) {
    return Math.round(s * 1e6) / 1e6;
  }

  static int parseInt(String client, String key, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--opt " + client + "." + key + "=" + value + " is not an integer");
    }
  }

  /** Random uppercase letters, as ProducerPerformance's --record-size payload. */
  static byte[] makePayload(int size) {
    byte[] payload = new byte[size];
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; i < size; i++) payload[i] = (byte) (65 + random.nextInt(26));
    return payload;
  }

  static long peakRssKiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
      }
    } catch (Exception e) {
      System.err.println("peak RSS: " + e);
    }
    return 0;
  }

  static Outcome produce(KafkaProducer<byte[], byte[]> producer, Phase phase, int window) {
    Pump pump = new Pump(phase.records, window, phase.rate);
    // One callback object for the records not timed, so only timed ones allocate a closure.
    Callback done = (metadata, error) -> pump.done(error);
    return pump.run(index -> {
      ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(phase.topic, phase.key(index), phase.value(index));
      if (index % phase.sampleEvery == 0) {
        long sentAt = System.nanoTime();
        producer.send(record, (metadata, error) -> {
          phase.recordLatency(index, System.nanoTime() - sentAt);
          pump.done(error);
        });
      } else {
        producer.send(record, done);
      }
    });
  }

  /** bench/lib/protocol.ts keyIndex: the same multiplicative hash, as an unsigned 32-bit product. */
  static int keyIndex(int index, int keys) {
    return (int) (Integer.toUnsignedLong(index * 0x9e3779b1) % keys);
  }

  /** A realistic scenario's records (bench/lib/realistic.ts): per record a 4-byte big-endian key length, the key, the same for the value. */
  static final class Pool {
    final byte[][] keys;
    final byte[][] values;

    Pool(byte[][] keys, byte[][] values) {
      this.keys = keys;
      this.values = values;
    }

    static Pool read(Path file) throws Exception {
      ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
      List<byte[]> keys = new ArrayList<>();
      List<byte[]> values = new ArrayList<>();
      while (bytes.hasRemaining()) {
        keys.add(next(bytes, file));
        values.add(next(bytes, file));
      }
      if (keys.isEmpty()) throw new IllegalArgumentException(file + ": no records");
      return new Pool(keys.toArray(new byte[0][]), values.toArray(new byte[0][]));
    }

    private static byte[] next(ByteBuffer bytes, Path file) {
      if (bytes.remaining() < 4) throw new IllegalArgumentException(file + ": truncated at byte " + bytes.position());
      int length = bytes.getInt();
      if (length < 0 || bytes.remaining() < length) throw new IllegalArgumentException(file + ": truncated at byte " + bytes.position());
      byte[] part = new byte[length];
      bytes.get(part);
      return part;
    }
  }

  /** One run of records to one topic, and the latencies of its timed records. */
  static final class Phase {
    final String topic;
    final int records;
    final byte[] payload;
    final byte[][] keys;
    final Pool pool;
    final int sampleEvery;
    final long rate;
    /** Slot i: nanoseconds of record i * sampleEvery, 0 until its callback; each slot is written by one callback only. */
    final long[] latencies;

    Phase(String topic, int records, byte[] payload, byte[][] keys, Pool pool, int sampleEvery, long rate) {
      this.topic = topic;
      this.records = records;
      this.payload = payload;
      this.keys = keys;
      this.pool = pool;
      this.sampleEvery = sampleEvery;
      this.rate = rate;
      this.latencies = new long[(records + sampleEvery - 1) / sampleEvery];
    }

    byte[] key(int index) {
      if (pool != null) return pool.keys[index % pool.keys.length];
      return keys == null ? null : keys[keyIndex(index, keys.length)];
    }

    byte[] value(int index) {
      return pool != null ? pool.values[index % pool.values.length] : payload;
    }

    void recordLatency(int index, long nanos) {
      latencies[index / sampleEvery] = Math.max(1, nanos);
    }

    /** bench/lib/latency.ts LatencyRecorder.summary: nearest rank, milliseconds rounded to µs. Read once every record settled. */
    Map<String, Object> summary() {
      double[] samples = Arrays.stream(latencies).filter(n -> n > 0).mapToDouble(n -> n / 1e6).sorted().toArray();
      double sum = 0;
      for (double v : samples) sum += v;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("kind", "per-record");
      out.put("samples", samples.length);
      out.put("recordsPerSample", sampleEvery);
      out.put("avgMs", samples.length == 0 ? null : round(sum / samples.length));
      out.put("p50Ms", percentile(samples, 50));
      out.put("p99Ms", percentile(samples, 99));
      out.put("p999Ms", percentile(samples, 99.9));
      out.put("maxMs", samples.length == 0 ? null : round(samples[samples.length - 1]));
      return out;
    }

    private static Double percentile(double[] sorted, double p) {
      if (sorted.length == 0) return null;
      int rank = (int) Math.ceil(p / 100 * sorted.length);
      return round(sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]);
    }

    private static double round(double ms) {
      return Math.round(ms * 1000) / 1000.0;
    }
  }

  static final class Outcome {
    long acked;
    long failed;
    String firstError;
    long droppedFromSchedule;
  }

  /**
   * bench/lib/child.ts's Pump and bench/clients/go/child's: hands records to submit in
   * chunks of CHUNK and, after a chunk, when `window` or more are unacknowledged, waits
   * until half the window came back; with a rate, the records due by the end of each
   * 1 ms slice instead (pacedDue). done() runs on the producer's I/O thread.
   */
  static final class Pump {
    final int total;
    final int window;
    final long rate;
    final AtomicLong settled = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    /** The count the sending thread is parked for; MAX_VALUE when it is not waiting. */
    volatile long waitFor = Long.MAX_VALUE;
    final Thread sender = Thread.currentThread();

    Pump(int total, int window, long rate) {
      this.total = total;
      this.window = Math.max(1, window);
      this.rate = rate;
    }

    void done(Exception error) {
      if (error != null) {
        firstError.compareAndSet(null, error.getClass().getSimpleName() + ": " + error.getMessage());
        // Before settled, so acked = settled - failed never counts a failure as acknowledged.
        failed.incrementAndGet();
      }
      if (settled.incrementAndGet() >= waitFor) LockSupport.unpark(sender);
    }

    private void settledAtLeast(long count) {
      // waitFor is written before settled is read, and done() increments settled before
      // reading waitFor: one of the two sees the other, so no wake-up is lost.
      waitFor = count;
      while (settled.get() < count) LockSupport.park(this);
      waitFor = Long.MAX_VALUE;
    }

    Outcome run(IntConsumer submit) {
      int next = 0;
      long dropped = 0;
      long started = System.nanoTime();
      while (next < total) {
        int end = Math.min(total, next + CHUNK);
        if (rate > 0) {
          long elapsed = System.nanoTime() - started;
          long slice = elapsed / PACE_SLICE_NS;
          long floor = upTo(slice - 1) - dropped;
          if (next < floor) dropped += floor - next;
          long due = Math.max(0, upTo(slice + 1) - dropped - next);
          if (due == 0) {
            // parkNanos, not Thread.sleep, which rounds anything under a millisecond up to one.
            LockSupport.parkNanos((slice + 1) * PACE_SLICE_NS - elapsed);
            continue;
          }
          end = (int) Math.min(total, next + due);
        }
        for (; next < end; next++) {
          try {
            submit.accept(next);
          } catch (RuntimeException e) {
            // send() throws (rather than calling back) for errors such as a closed producer or an interrupt.
            done(e);
          }
        }
        if (next - settled.get() >= window) settledAtLeast(next - window / 2);
      }
      settledAtLeast(total);
      Outcome outcome = new Outcome();
      outcome.failed = failed.get();
      outcome.acked = settled.get() - outcome.failed;
      outcome.firstError = outcome.failed > 0 ? firstError.get() : null;
      outcome.droppedFromSchedule = dropped;
      return outcome;
    }

    /** Records due by the end of slice k at `rate`: bench/lib/protocol.ts pacedDue's upTo, floored as there. */
    private long upTo(long k) {
      return Math.floorDiv(rate * k * (PACE_SLICE_NS / 1_000_000L), 1000L);
    }
  }

  /** The JIT's and the GC's work so far, from their MXBeans. */
  static final class JvmWork {
    final long jitMs;
    final long gcCount;
    final long gcMs;

    private JvmWork(long jitMs, long gcCount, long gcMs) {
      this.jitMs = jitMs;
      this.gcCount = gcCount;
      this.gcMs = gcMs;
    }

    static JvmWork now() {
      var jit = ManagementFactory.getCompilationMXBean();
      long jitMs = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
      long count = 0;
      long ms = 0;
      for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        count += Math.max(0, gc.getCollectionCount());
        ms += Math.max(0, gc.getCollectionTime());
      }
      return new JvmWork(jitMs, count, ms);
    }

    String since(JvmWork before) {
      String jit = jitMs < 0 ? "JIT compile time not available" : "JIT compiling " + (jitMs - before.jitMs) + " ms (CompilationMXBean, summed over compiler threads)";
      return "measured phase: " + jit + "; GC " + (gcCount - before.gcCount) + " collections, " + (gcMs - before.gcMs) + " ms (GarbageCollectorMXBeans)";
    }
  }

  /**
   * The process's CPU time: getProcessCpuTime() for the total, /proc/self/stat for the
   * system part. Both are the kernel's per-process tick counters (getProcessCpuTime() is
   * times(2) on Linux), so the split is taken only from a reading where the stat lines
   * on either side of getProcessCpuTime() agree with each other and with it.
   */
  static final class Cpu {
    /** USER_HZ, what times(2) and /proc/self/stat count in on Linux. */
    static final long TICKS_PER_SECOND = 100;
    static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    final long totalNs;
    final long systemTicks;
    final boolean split;

    private Cpu(long totalNs, long systemTicks, boolean split) {
      this.totalNs = totalNs;
      this.systemTicks = systemTicks;
      this.split = split;
    }

    static Cpu now() {
      long totalNs = 0;
      for (int attempt = 0; attempt < 5; attempt++) {
        long[] first = stat();
        totalNs = OS.getProcessCpuTime();
        long[] second = stat();
        if (first != null && Arrays.equals(first, second) && (first[0] + first[1]) * (1_000_000_000L / TICKS_PER_SECOND) == totalNs) {
          return new Cpu(totalNs, first[1], true);
        }
      }
      return new Cpu(totalNs, 0, false);
    }

    /** utime and stime of /proc/self/stat, or null. */
    private static long[] stat() {
      try {
        String line = Files.readString(Path.of("/proc/self/stat"));
        // The command name, in parentheses, may hold spaces: fields are counted after it.
        String[] fields = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
        return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
      } catch (Exception e) {
        return null;
      }
    }
  }

  /** JSON for the protocol: a reader of the config's shape (objects, strings, numbers) and a writer of the result's. */
  static final class Json {
    private final String text;
    private int at;

    private Json(String text) {
      this.text = text;
    }

    static Object parse(String text) {
      Json json = new Json(text);
      Object value = json.value();
      json.space();
      if (json.at != text.length()) throw json.error("trailing text");
      return value;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value) {
      if (!(value instanceof Map)) throw new IllegalArgumentException("config: not a JSON object");
      return (Map<String, Object>) value;
    }

    static String string(Map<String, Object> object, String key) {
      if (object.get(key) instanceof String s) return s;
      throw new IllegalArgumentException("config: " + key + " missing or not a string");
    }

    static int integer(Map<String, Object> object, String key, int fallback) {
      Object value = object.get(key);
      if (value == null) return fallback;
      if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) return d.intValue();
      throw new IllegalArgumentException("config: " + key + " is not an integer: " + value);
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException("config JSON: " + what + " at character " + at);
    }

    private void space() {
      while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
    }

    private boolean take(char c) {
      space();
      if (at < text.length() && text.charAt(at) == c) {
        at++;
        return true;
      }
      return false;
    }

    private void expect(char c) {
      if (!take(c)) throw error("expected '" + c + "'");
    }

    private Object value() {
      space();
      if (at >= text.length()) throw error("unexpected end");
      char c = text.charAt(at);
      if (c == '{') {
        at++;
        Map<String, Object> object = new LinkedHashMap<>();
        if (take('}')) return object;
        do {
          space();
          String key = string();
          expect(':');
          object.put(key, value());
        } while (take(','));
        expect('}');
        return object;
      }
      if (c == '[') {
        at++;
        List<Object> array = new ArrayList<>();
        if (take(']')) return array;
        do array.add(value()); while (take(','));
        expect(']');
        return array;
      }
      if (c == '"') return string();
      for (String word : new String[] {"true", "false", "null"}) {
        if (text.startsWith(word, at)) {
          at += word.length();
          return word.equals("null") ? null : Boolean.valueOf(word);
        }
      }
      int start = at;
      while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
      if (start == at) throw error("unexpected '" + c + "'");
      try {
        return Double.valueOf(text.substring(start, at));
      } catch (NumberFormatException e) {
        throw error("bad number");
      }
    }

    private String string() {
      if (at >= text.length() || text.charAt(at) != '"') throw error("expected a string");
      at++;
      StringBuilder out = new StringBuilder();
      while (true) {
        if (at >= text.length()) throw error("unterminated string");
        char c = text.charAt(at++);
        if (c == '"') return out.toString();
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (at >= text.length()) throw error("unterminated string");
        char e = text.charAt(at++);
        switch (e) {
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            if (at + 4 > text.length()) throw error("bad \\u escape");
            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
            at += 4;
          }
          default -> out.append(e);
        }
      }
    }

    static String write(Object value) {
      StringBuilder out = new StringBuilder();
      write(out, value);
      return out.toString();
    }

    private static void write(StringBuilder out, Object value) {
      if (value == null) {
        out.append("null");
      } else if (value instanceof String s) {
        quote(out, s);
      } else if (value instanceof Double d) {
        // JSON has no NaN or Infinity; the Go runners write null where there is no figure.
        out.append(d.isNaN() || d.isInfinite() ? "null" : d.toString());
      } else if (value instanceof Number || value instanceof Boolean) {
        out.append(value);
      } else if (value instanceof Map<?, ?> map) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!first) out.append(',');
          first = false;
          quote(out, String.valueOf(e.getKey()));
          out.append(':');
          write(out, e.getValue());
        }
        out.append('}');
      } else if (value instanceof List<?> list) {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) out.append(',');
          write(out, list.get(i));
        }
        out.append(']');
      } else {
        quote(out, value.toString());
      }
    }

    private static void quote(StringBuilder out, String s) {
      out.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          default -> {
            if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
          }
        }
      }
      out.append('"');
    }
  }
}
