// Prints Kafka's protocol tables from the kafka-clients jar on the classpath, tab-separated:
//   errors: code, name, retriable, invalid-metadata, message
//   apis:   key, name
// Run by scripts/gen/kafka-tables.ts.
import org.apache.kafka.common.errors.*;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

public class DumpTables {
  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("apis")) {
      for (ApiKeys k : ApiKeys.values()) System.out.println(k.id + "\t" + k.name);
      return;
    }
    for (Errors e : Errors.values()) {
      ApiException ex = e.exception();
      boolean retriable = ex instanceof RetriableException;
      boolean invalidMetadata = ex instanceof InvalidMetadataException;
      String message = ex == null ? "" : String.valueOf(ex.getMessage());
      System.out.println(e.code() + "\t" + e.name() + "\t" + retriable + "\t" + invalidMetadata + "\t" + message.replace("\t", " "));
    }
  }
}
