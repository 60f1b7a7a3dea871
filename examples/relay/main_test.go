package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestMain runs the relay itself when the test starts it as a child
// process, so that the test can kill it like a crash.
func TestMain(m *testing.M) {
	if os.Getenv("ALLOT_RELAY_CHILD") == "1" {
		main() // the relay's flags are its only arguments
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// services returns the test database and NATS, or skips when either is
// missing.
func services(t *testing.T) (dbURL string, js jetstream.JetStream, nc *nats.Conn) {
	dbURL = os.Getenv("ALLOT_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("ALLOT_TEST_DATABASE_URL is unset; set it to a PostgreSQL database to run the relay's test")
	}
	natsURL, required := os.LookupEnv("ALLOT_TEST_NATS_URL")
	if !required {
		natsURL = nats.DefaultURL
	}
	nc, err := nats.Connect(natsURL, nats.Timeout(2*time.Second))
	switch {
	case err != nil && required:
		t.Fatalf("ALLOT_TEST_NATS_URL=%s: %v", natsURL, err)
	case err != nil:
		t.Skipf("no NATS server at %s (%v); start one with JetStream (nats-server -js) or set ALLOT_TEST_NATS_URL", natsURL, err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return dbURL, js, nc
}

func TestRelay_DeliversEveryEventOnceAcrossACrash(t *testing.T) {
	dbURL, js, _ := services(t)
	ctx := context.Background()
	id := fmt.Sprintf("%d", rand.Uint32())
	schema, stream, subject := "relay_test_"+id, "ALLOT_RELAY_TEST_"+id, "allot.relaytest"+id

	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		pool.Close()
		js.DeleteStream(context.Background(), stream)
	})
	if err := pgxstore.Migrate(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	store, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	write := func(n int) {
		t.Helper()
		for range n / 10 {
			err := store.InTx(ctx, func(tx ledger.Tx) error {
				evs := make([]events.Event, 10)
				for i := range evs {
					written++
					evs[i] = events.Event{Type: events.SeatsEventCovered, Org: "acme", At: time.Now(), Actor: "system",
						Payload: events.EventCovered{Event: fmt.Sprint("e", written)}}
				}
				return tx.(events.Emitter).Emit(ctx, evs...)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	// The relay's own connection sets the schema through the search_path.
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	start := func() *exec.Cmd {
		args := []string{"-db", u.String(), "-stream", stream, "-subject", subject, "-name", "test",
			"-batch", "20", "-pause", "5ms", "-idle", "20ms"}
		if url := os.Getenv("ALLOT_TEST_NATS_URL"); url != "" {
			args = append(args, "-nats", url)
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "ALLOT_RELAY_CHILD=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	msgs := func() uint64 {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return 0
		}
		info, err := s.Info(ctx)
		if err != nil {
			return 0
		}
		return info.State.Msgs
	}
	waitFor := func(what string, ok func(uint64) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok(msgs()) {
			if time.Now().After(deadline) {
				t.Fatalf("waited a minute for %s; the stream holds %d", what, msgs())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}

	write(600)
	relay := start()
	waitFor("the relay to be mid-stream", func(n uint64) bool { return n >= 100 })
	relay.Process.Kill() // a crash: no shutdown, no last cursor save
	relay.Wait()
	if n := msgs(); n >= 600 {
		t.Fatalf("the relay finished (%d messages) before it was killed; slow it down", n)
	}

	// A crash between publishing and saving the cursor: move the cursor
	// back, so the restarted relay publishes those events again.
	cursor := &PGCursor{DB: pool, Name: "test"}
	saved, err := cursor.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cursor.Save(ctx, max(saved-50, 0)); err != nil {
		t.Fatal(err)
	}
	write(400)
	relay = start()
	waitFor("every event", func(n uint64) bool { return n >= 1000 })
	time.Sleep(200 * time.Millisecond) // room for a duplicate to arrive
	relay.Process.Signal(os.Interrupt)
	relay.Wait()

	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	batch, err := cons.FetchNoWait(2000)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		seen[m.Headers().Get(jetstream.MsgIDHeader)]++
	}
	if len(seen) != 1000 || msgs() != 1000 {
		t.Fatalf("the stream holds %d messages with %d distinct IDs; want each of 1000 events once", msgs(), len(seen))
	}
	for seq := int64(1); seq <= 1000; seq++ {
		if seen[MsgID("test", seq)] != 1 {
			t.Errorf("event %d is on the stream %d times", seq, seen[MsgID("test", seq)])
		}
	}
}
