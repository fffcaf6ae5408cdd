// Prints Kafka's error table (code, name, retriable, invalid-metadata, message) from the
// kafka-clients jar on the classpath. Run by scripts/gen/error-codes.ts.
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.errors.*;
public class DumpErrors {
  public static void main(String[] a) {
    for (Errors e : Errors.values()) {
      ApiException ex = e.exception();
      boolean retriable = ex instanceof RetriableException;
      boolean invalidMeta = ex instanceof InvalidMetadataException;
      String msg = ex == null ? "" : String.valueOf(ex.getMessage());
      System.out.println(e.code() + "\t" + e.name() + "\t" + retriable + "\t" + invalidMeta + "\t" + msg.replace("\t"," "));
    }
  }
}
