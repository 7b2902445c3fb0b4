import com.almworks.sqlite4java.SQLiteConnection;
import com.almworks.sqlite4java.SQLiteException;
import com.almworks.sqlite4java.SQLiteJob;
import com.almworks.sqlite4java.SQLiteQueue;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.AbstractLocalDynamoDBServerHandler;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.shared.access.LocalDBClient;
import software.amazon.dynamodb.services.local.shared.access.sqlite.SQLiteDBAccess;

/**
 * DynamoDB Local as the jar's own main builds it, with two changes made before it starts:
 *
 * 1. It has no bind-address option: its Jetty connector listens on every interface. The
 *    connector is bound to 127.0.0.1, so the test bed exposes nothing beyond loopback.
 * 2. Every write to a table with a stream describes that stream, which runs
 *    `SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?` on its stream-record table ("us").
 *    That table has no index on StreamID, so each such write reads every record kept before
 *    the stream's first one (records live 24 hours, and across restarts on disk): on a table
 *    created after 20,000 records of an older one, 50 ms per write on disk, about 1 ms with an
 *    index on (StreamID, SequenceNumber). The index changes no answer.
 */
public final class LoopbackDynamoDBLocal {
  static final String STREAM_RECORD_INDEX =
      "CREATE INDEX IF NOT EXISTS kubelease_us_stream_sequence ON us (StreamID, SequenceNumber)";

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Server jetty = (Server) field(DynamoDBProxyServer.class, "server").get(proxy);
    int bound = 0;
    for (Connector connector : jetty.getConnectors()) {
      if (connector instanceof ServerConnector serverConnector) {
        serverConnector.setHost("127.0.0.1");
        bound++;
      }
    }
    if (bound == 0) throw new IllegalStateException("no Jetty ServerConnector found to bind to 127.0.0.1");
    indexStreamRecords(proxy);
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1 only, stream records indexed by stream");
    proxy.join();
  }

  /** Opens the shared database (the one every request uses under -sharedDb) and adds the index on its own queue. */
  private static void indexStreamRecords(DynamoDBProxyServer proxy) throws Exception {
    Object serverHandler = field(DynamoDBProxyServer.class, "serverHandler").get(proxy);
    Object requestHandler = field(AbstractLocalDynamoDBServerHandler.class, "primaryHandler").get(serverHandler);
    if (!(requestHandler instanceof LocalDynamoDBRequestHandler)) {
      throw new IllegalStateException("unexpected DynamoDB Local request handler: " + requestHandler.getClass().getName());
    }
    if (!field(LocalDynamoDBRequestHandler.class, "sharedDb").getBoolean(requestHandler)) {
      throw new IllegalStateException("start DynamoDB Local with -sharedDb: the stream-record index is added to the shared database only");
    }
    Method getHandler = LocalDynamoDBRequestHandler.class.getDeclaredMethod("getHandler", String.class);
    getHandler.setAccessible(true);
    Object client = getHandler.invoke(requestHandler, "shared");
    Object access = field(LocalDBClient.class, "dbAccess").get(client);
    SQLiteQueue queue = (SQLiteQueue) field(SQLiteDBAccess.class, "queue").get(access);
    SQLiteJob<Void> job = queue.execute(new SQLiteJob<Void>() {
      @Override
      protected Void job(SQLiteConnection connection) throws SQLiteException {
        connection.exec(STREAM_RECORD_INDEX);
        return null;
      }
    });
    job.complete();
    if (job.getError() != null) throw new IllegalStateException("could not index DynamoDB Local's stream records", job.getError());
  }

  private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
    Field field = owner.getDeclaredField(name);
    field.setAccessible(true);
    return field;
  }
}
