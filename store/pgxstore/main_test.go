package pgxstore_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The crash helper is this test binary run again with crashSchemaEnv set:
// it posts forever and prints the number of each group it committed.
const crashSchemaEnv = "ALLOT_TEST_CRASH_SCHEMA"

// localURL is the conventional address of a developer's local server, the
// one .ci/run uses.
const localURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// dbExamples are the examples that need the database. Without one they are
// left out of the run (an example cannot skip), and the notice says so.
const dbExamples = "^ExampleNew$"

// exampleSchema is the schema ExampleNew keeps its tables in.
const exampleSchema = "billing"

func TestMain(m *testing.M) {
	if schema := os.Getenv(crashSchemaEnv); schema != "" {
		if err := crashHelper(schema); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	// No testdepth.Apply: the model properties stay at rapid's 100 cases in
	// the deep run too. Each case makes hundreds of round trips, and at 100
	// they already take most of .ci/run's time.
	url := os.Getenv(envURL)
	if url == "" {
		leaveOut(dbExamples)
		w, done := noticeWriter(testing.Verbose())
		fmt.Fprint(w, skipNotice(localAnswers()))
		done()
		return m.Run()
	}
	// The examples read DATABASE_URL, as a service would; here it is the
	// test database, never whatever the caller's shell names.
	os.Setenv("DATABASE_URL", url)
	code := m.Run()
	if err := dropSchema(url, exampleSchema); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

// leaveOut adds pattern to the tests and examples -test.skip leaves out.
func leaveOut(pattern string) {
	if old := flag.Lookup("test.skip").Value.String(); old != "" {
		pattern = "(" + old + ")|" + pattern
	}
	flag.Set("test.skip", pattern)
}

// localAnswers reports whether something accepts connections on the
// conventional local PostgreSQL address.
func localAnswers() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// skipNotice says that the PostgreSQL tests were skipped and how to run
// them, with the exact command when a local server answers.
func skipNotice(local bool) string {
	s := "store/pgxstore: " + envURL + " is unset, so the PostgreSQL tests and ExampleNew were skipped.\n"
	if local {
		return s + "  A server answers on 127.0.0.1:5432; to run them against it, create the database test\n" +
			"  (createdb -h 127.0.0.1 -U postgres test) and run from the repository's root:\n" +
			"    " + envURL + "=" + strconv.Quote(localURL) + " go test work\n"
	}
	return s + "  To run them, start PostgreSQL and set " + envURL + ", e.g.\n" +
		"    " + envURL + "=" + strconv.Quote(localURL) + " go test work\n" +
		"  (README.md, Run it, says more)\n"
}

// noticeWriter returns where a notice is seen, and a function that closes
// it. go test shows a passing package's output only with -v or -json
// (verbose), and otherwise discards it, so the notice goes to the go
// command's own standard output when that is a terminal or a pipe: on Linux
// /proc/<parent>/fd/1, the parent being the go command (-test.paniconexit0
// is set only by go test). A regular file is left alone, since writing at
// its end would be overwritten by the go command's next line; then the
// terminal, if any, and last the binary's standard error, which go test
// shows only if the package fails.
func noticeWriter(verbose bool) (io.Writer, func()) {
	if verbose || !runByGoTest() {
		return os.Stdout, func() {}
	}
	for _, name := range []string{fmt.Sprintf("/proc/%d/fd/1", os.Getppid()), "/dev/tty"} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().IsRegular() {
			continue
		}
		if f, err := os.OpenFile(name, os.O_WRONLY, 0); err == nil {
			return f, func() { f.Close() }
		}
	}
	return os.Stderr, func() {}
}

// runByGoTest reports whether the go command started this test binary.
func runByGoTest() bool {
	f := flag.Lookup("test.paniconexit0")
	return f != nil && f.Value.String() == "true"
}

// dropSchema drops the schema an example used, so that each run starts
// from none.
func dropSchema(url, schema string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}
