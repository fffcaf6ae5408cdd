/**
 * A check of the generated definitions against Kafka's own Java message classes: each
 * case's bytes (our encoding) are read by `ApiMessageType.fromApiKey(key).newRequest()` /
 * `newResponse()` of the kafka-clients jar, written back by it, and described by its
 * generated `...JsonConverter`. test/protocol/generated-java.test.ts compares the bytes
 * written back with ours and the JSON with our values.
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

/** Lines in: "request|response key version hex". Lines out: "OK hex json" or "ERR message". */
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

/** Runs every case through Kafka's Java classes in one JVM; `classpath` as for `java -cp`. */
export function readWithKafkaJava(cases: readonly JavaCase[], classpath: string): JavaResult[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-messages-java-'));
  try {
    const program = path.join(dir, 'KafkaMessagesCheck.java');
    writeFileSync(program, PROGRAM);
    const input = cases.map((c) => `${c.side} ${c.key} ${c.version} ${Buffer.from(c.bytes).toString('hex')}\n`).join('');
    const output = execFileSync('java', ['-cp', classpath, program], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = output.split('\n').filter((l) => l.length > 0);
    if (lines.length !== cases.length) throw new Error(`java answered ${lines.length} lines for ${cases.length} cases`);
    return lines.map((line): JavaResult => {
      if (line.startsWith('ERR ')) return { ok: false, error: line.slice(4) };
      const [, hex, ...json] = line.split(' ');
      return { ok: true, bytes: Buffer.from(hex!, 'hex'), json: JSON.parse(json.join(' ')) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
