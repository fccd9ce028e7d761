// JdbcTx runs SQL statements the way Flyway runs a migration's statements
// on PostgreSQL through pgjdbc: one connection with autocommit off, each
// statement sent on its own with Statement.execute, then commit. It
// prints one line per statement: "ok", or the SQLState of its error
// (after which it rolls back and stops).
//
//	java -cp postgresql.jar JdbcTx.java JDBC-URL STATEMENT...
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

public class JdbcTx {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            c.setAutoCommit(false);
            for (int i = 1; i < args.length; i++) {
                try (Statement s = c.createStatement()) {
                    s.execute(args[i]);
                    System.out.println("ok");
                } catch (SQLException e) {
                    System.out.println(e.getSQLState());
                    c.rollback();
                    return;
                }
            }
            c.commit();
        }
    }
}
