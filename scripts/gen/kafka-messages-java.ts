/**
 * A check of the generated definitions against Kafka's own Java message classes: each
 * case's bytes (our encoding) are read by `ApiMessageType.fromApiKey(key).newRequest()` /
 * `newResponse()` of the kafka-clients jar, written back by it, and described by its
 * generated `...JsonConverter`. test/protocol/generated-java.test.ts compares the bytes
 * written back with ours and the JSON with our values. It also answers, per API, the
 * versions whose response `AbstractResponse.shouldClientThrottle` (KIP-219): the generator
 * takes `clientThrottlesFrom` from it, as that is in Kafka's Java code, not in its JSON.
 *
 * The Java program is kept here as a string and run with `java File.java` (single-file
 * source launch, JDK 11+), so nothing has to be compiled ahead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PROGRAM = `
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractResponse;

/**
 * Lines in: "request|response key version hex", or "throttle key".
 * Lines out: "OK hex json", "THROTTLE v,v,..." or "ERR message".
 */
public class KafkaMessagesCheck {
  /** Numbers as text, so that int64 values survive JSON.parse on the other side. */
  static JsonNode numbersAsText(JsonNode node) {
    if (node.isNumber()) return JsonNodeFactory.instance.textNode(node.asText());
    if (node.isArray()) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      for (JsonNode item : node) out.add(numbersAsText(item));
      return out;
    }
    if (node.isObject()) {
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.set(e.getKey(), numbersAsText(e.getValue()));
      }
      return out;
    }
    return node;
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    HexFormat hex = HexFormat.of();
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split(" ", -1);
      try {
        if (p[0].equals("throttle")) {
          // The versions whose response AbstractResponse.shouldClientThrottle says the client must wait out.
          ApiKeys api = ApiKeys.forId(Short.parseShort(p[1]));
          StringBuilder versions = new StringBuilder();
          for (short v = api.oldestVersion(); v <= api.latestVersion(true); v++) {
            ApiMessage empty = ApiMessageType.fromApiKey(api.id).newResponse();
            ByteBuffer bytes = MessageUtil.toByteBufferAccessor(empty, v).buffer();
            bytes.rewind();
            if (AbstractResponse.parseResponse(api, new ByteBufferAccessor(bytes), v).shouldClientThrottle(v)) versions.append(versions.length() == 0 ? "" : ",").append(v);
          }
          out.println("THROTTLE " + versions);
          continue;
        }
        ApiMessageType type = ApiMessageType.fromApiKey(Short.parseShort(p[1]));
        short version = Short.parseShort(p[2]);
        ApiMessage message = p[0].equals("request") ? type.newRequest() : type.newResponse();
        ByteBuffer input = ByteBuffer.wrap(hex.parseHex(p[3]));
        message.read(new ByteBufferAccessor(input), version);
        if (input.remaining() != 0) throw new IllegalStateException(input.remaining() + " bytes left unread");
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer written = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(written), cache, version);
        Class<?> converter = Class.forName(message.getClass().getName() + "JsonConverter");
        JsonNode json = (JsonNode) converter.getMethod("write", message.getClass(), short.class).invoke(null, message, version);
        out.println("OK " + hex.formatHex(written.array()) + " " + numbersAsText(json));
      } catch (Throwable e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        out.println("ERR " + String.valueOf(cause).replace('\\n', ' '));
      }
    }
    out.flush();
  }
}
`;

export interface JavaCase {
  readonly side: 'request' | 'response';
  readonly key: number;
  readonly version: number;
  readonly bytes: Uint8Array;
}

export type JavaResult = { readonly ok: true; readonly bytes: Buffer; readonly json: unknown } | { readonly ok: false; readonly error: string };

/**
 * Runs every case through Kafka's Java classes, and asks them which versions of each of
 * `throttleKeys` the client throttles itself for, all in one JVM; `classpath` as for `java -cp`.
 */
export function askKafkaJava(
  cases: readonly JavaCase[],
  throttleKeys: readonly number[],
  classpath: string,
): { results: JavaResult[]; throttles: Map<number, number[]> } {
  const input = [...cases.map((c) => `${c.side} ${c.key} ${c.version} ${Buffer.from(c.bytes).toString('hex')}\n`), ...throttleKeys.map((k) => `throttle ${k}\n`)].join('');
  const lines = runJava(input, cases.length + throttleKeys.length, classpath);
  const results = lines.slice(0, cases.length).map((line): JavaResult => {
    if (line.startsWith('ERR ')) return { ok: false, error: line.slice(4) };
    const [, hex, ...json] = line.split(' ');
    return { ok: true, bytes: Buffer.from(hex!, 'hex'), json: JSON.parse(json.join(' ')) };
  });
  const throttles = new Map(
    throttleKeys.map((key, i) => {
      const line = lines[cases.length + i]!;
      if (!line.startsWith('THROTTLE')) throw new Error(`API key ${key}: ${line}`);
      const list = line.slice('THROTTLE'.length).trim();
      return [key, list ? list.split(',').map(Number) : []];
    }),
  );
  return { results, throttles };
}

/** For each API key, the versions whose response Kafka's client must throttle itself for (KIP-219). */
export function clientThrottleVersions(keys: readonly number[], classpath: string): Map<number, number[]> {
  return askKafkaJava([], keys, classpath).throttles;
}

function runJava(input: string, expectedLines: number, classpath: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-messages-java-'));
  try {
    const program = path.join(dir, 'KafkaMessagesCheck.java');
    writeFileSync(program, PROGRAM);
    const output = execFileSync('java', ['-cp', classpath, program], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = output.split('\n').filter((l) => l.length > 0);
    if (lines.length !== expectedLines) throw new Error(`java answered ${lines.length} lines for ${expectedLines}`);
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
