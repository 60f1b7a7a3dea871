// Command relay tails allot's outbox in PostgreSQL and publishes every event
// to a NATS JetStream stream, exactly once on the stream across crashes.
//
// It keeps its cursor, the Seq of the last event the stream acknowledged, in
// a table of its own in the same database, and advances it only after
// JetStream acknowledged every event up to it. Each message carries the
// event's Seq as its message ID (Nats-Msg-Id), so when the relay dies
// between publishing and saving its cursor and publishes a batch again,
// JetStream's duplicate window drops the copies: the stream holds each
// event once.
//
//	relay -db postgres://... -nats nats://127.0.0.1:4222 -stream ALLOT_EVENTS
//
// Subjects are "<prefix>.<type>", e.g. "allot.events.licenses.requested";
// the message body is the event as JSON, with its tenant in the Org field.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is what a relay needs.
type Config struct {
	Name    string        // the relay's name: its cursor's key, and its message IDs' prefix
	Stream  string        // the JetStream stream, created if missing
	Subject string        // the subjects' prefix
	Batch   int           // events read and published at a time
	Idle    time.Duration // the wait after finding nothing new
	Pause   time.Duration // a pause between batches; zero in production
}

func main() {
	var cfg Config
	dbURL := flag.String("db", os.Getenv("ALLOT_DATABASE_URL"), "PostgreSQL URL of allot's store")
	natsURL := flag.String("nats", nats.DefaultURL, "NATS server URL")
	schema := flag.String("schema", "", "the store's schema; empty: the search_path's first")
	flag.StringVar(&cfg.Name, "name", "relay", "the relay's name, its cursor's key")
	flag.StringVar(&cfg.Stream, "stream", "ALLOT_EVENTS", "JetStream stream")
	flag.StringVar(&cfg.Subject, "subject", "allot.events", "subject prefix")
	flag.IntVar(&cfg.Batch, "batch", 100, "events per batch, 1 to 1000")
	flag.DurationVar(&cfg.Idle, "idle", 250*time.Millisecond, "wait after finding nothing new")
	flag.DurationVar(&cfg.Pause, "pause", 0, "pause between batches")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dbURL, *schema, *natsURL, cfg); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dbURL, schema, natsURL string, cfg Config) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	// The services that write events migrate the store at their start; so
	// does the relay, which may start first.
	if err := pgxstore.Migrate(ctx, pool, schema); err != nil {
		return err
	}
	store, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema})
	if err != nil {
		return err
	}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	r := &Relay{Config: cfg, Events: events.NewReader(store), Cursor: &PGCursor{DB: pool, Name: cfg.Name}, JS: js}
	return r.Run(ctx)
}

// Relay moves events from the outbox to a stream.
type Relay struct {
	Config
	Events *events.Reader
	Cursor Cursor
	JS     jetstream.JetStream
}

// Cursor keeps the Seq of the last event the stream acknowledged.
type Cursor interface {
	Load(ctx context.Context) (int64, error)
	Save(ctx context.Context, seq int64) error
}

// Run relays until ctx ends or an error stops it.
func (r *Relay) Run(ctx context.Context) error {
	if _, err := r.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       r.Stream,
		Subjects:   []string{r.Subject + ".>"},
		Duplicates: 2 * time.Minute, // longer than a relay takes to restart
	}); err != nil {
		return fmt.Errorf("relay: stream %s: %w", r.Stream, err)
	}
	after, err := r.Cursor.Load(ctx)
	if err != nil {
		return err
	}
	for {
		n, last, err := r.relayBatch(ctx, after)
		if err != nil {
			return err
		}
		after = last
		wait := r.Pause
		if n == 0 {
			wait = r.Idle
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// relayBatch publishes the events after the cursor, waits for every
// acknowledgement, then saves the cursor. It returns how many it relayed and
// the new cursor.
func (r *Relay) relayBatch(ctx context.Context, after int64) (int, int64, error) {
	evs, err := r.Events.Read(ctx, events.Query{After: after, Limit: r.Batch})
	if err != nil || len(evs) == 0 {
		return 0, after, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	for _, e := range evs {
		body, err := json.Marshal(e)
		if err != nil {
			return 0, after, err
		}
		f, err := r.JS.PublishAsync(r.Subject+"."+string(e.Type), body, jetstream.WithMsgID(MsgID(r.Name, e.Seq)))
		if err != nil {
			return 0, after, err
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return 0, after, fmt.Errorf("relay: publishing %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
		case <-ctx.Done():
			return 0, after, ctx.Err()
		}
	}
	last := evs[len(evs)-1].Seq
	if err := r.Cursor.Save(ctx, last); err != nil {
		return 0, after, err
	}
	return len(evs), last, nil
}

// MsgID is the message ID of the event numbered seq: JetStream drops a
// message whose ID it saw within its duplicate window.
func MsgID(relay string, seq int64) string { return relay + "-" + strconv.FormatInt(seq, 10) }

// PGCursor keeps a relay's cursor in a table of its own.
type PGCursor struct {
	DB   *pgxpool.Pool
	Name string
}

// Load returns the saved cursor, creating the table if needed: 0 at first.
func (c *PGCursor) Load(ctx context.Context) (int64, error) {
	if _, err := c.DB.Exec(ctx, `CREATE TABLE IF NOT EXISTS allot_relay_cursor (name text PRIMARY KEY, seq bigint NOT NULL)`); err != nil {
		return 0, err
	}
	var seq int64
	err := c.DB.QueryRow(ctx, `SELECT seq FROM allot_relay_cursor WHERE name = $1`, c.Name).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Save records seq as the cursor.
func (c *PGCursor) Save(ctx context.Context, seq int64) error {
	_, err := c.DB.Exec(ctx, `INSERT INTO allot_relay_cursor (name, seq) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`, c.Name, seq)
	return err
}
