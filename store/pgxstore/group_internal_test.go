package pgxstore

import (
	"fmt"
	"testing"
	"time"
)

// TestCommitter_Remember: the committer keeps the size of the last group of
// each pair of accounts when it had more than one post, forgets a pair whose
// last group was a post alone, and keeps at most maxRemembered pairs.
func TestCommitter_Remember(t *testing.T) {
	gc := &committer{}
	group := func(key string, size int) *group {
		return &group{key: key, queue: make([]*member, size)}
	}
	gc.remember(group("ab", 5))
	if got := gc.last["ab"]; got != 5 {
		t.Errorf("last[ab] = %d, want 5", got)
	}
	gc.remember(group("ab", 1))
	if got, ok := gc.last["ab"]; ok {
		t.Errorf("last[ab] = %d after a group of one, want it forgotten", got)
	}
	for i := range maxRemembered + 10 {
		gc.remember(group(fmt.Sprint("pair-", i), 2))
	}
	if n := len(gc.last); n > maxRemembered {
		t.Errorf("%d pairs remembered, want at most %d", n, maxRemembered)
	}
}

// TestCommitter_Gather: a leader does not wait when the last group of its
// accounts was one post or unknown, waits for as many members as that
// group had, and waits no longer than gatherMax when they do not come.
func TestCommitter_Gather(t *testing.T) {
	gc := &committer{gatherMax: time.Hour}
	g := &group{key: "ab", queue: make([]*member, 1), joined: make(chan struct{}, 1)}
	gc.gather(g) // nothing known of "ab": returns at once

	gc.last = map[string]int{"ab": 3}
	done := make(chan struct{})
	go func() {
		gc.gather(g)
		close(done)
	}()
	for range 2 {
		select {
		case <-done:
			t.Fatal("the leader stopped waiting before the members it expects joined")
		case <-time.After(20 * time.Millisecond):
		}
		gc.mu.Lock()
		g.queue = append(g.queue, &member{})
		gc.mu.Unlock()
		g.joined <- struct{}{}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader still waits with every member it expects joined")
	}

	gc.gatherMax = 10 * time.Millisecond
	gc.last["ab"] = 10
	start := time.Now()
	gc.gather(g)
	if d := time.Since(start); d < gc.gatherMax || d > 5*time.Second {
		t.Errorf("the leader waited %v for members that never came, want about %v", d, gc.gatherMax)
	}
}
