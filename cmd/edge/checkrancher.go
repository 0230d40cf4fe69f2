package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/metadata"
	"github.com/rancher-edge/edge/route"
)

// rancherCheckWait bounds how long `edge check` waits for Rancher's first
// answer.
const rancherCheckWait = 10 * time.Second

// checkRancher reads Rancher once through the provider serve would run
// (the API's, or rancher-metadata's in metadata mode), so that `edge
// check` lists the routes Rancher gives and what it skipped. A Rancher
// that cannot be read is reported, not fatal: serve would start, keep
// retrying and serve the other routes meanwhile.
func checkRancher(ctx context.Context, w io.Writer, providers []discovery.Provider) (route.Snapshot, bool) {
	for _, p := range providers {
		if p.Name() != "rancher" && p.Name() != metadata.ProviderName {
			continue
		}
		snap, err := firstSnapshot(ctx, p, rancherCheckWait)
		if err != nil {
			st := p.Status()
			if st.LastError != "" {
				err = errors.New(st.LastError)
			}
			fmt.Fprintf(w, "%s: not read now (%v); serve would keep retrying and serve the other routes meanwhile\n", p.Name(), err)
			return route.Snapshot{}, false
		}
		st := p.Status()
		fmt.Fprintf(w, "%s: read %s, %s, %s: %s\n", p.Name(), plural(st.Stacks, "stack"), plural(st.Services, "service"),
			plural(st.Containers, "container"), plural(len(snap.Services), "route"))
		return snap, true
	}
	return route.Snapshot{}, false
}

// firstSnapshot runs p until it publishes or its first attempt fails, at
// most wait.
func firstSnapshot(ctx context.Context, p discovery.Provider, wait time.Duration) (route.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	got := make(chan route.Snapshot, 1)
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func(s route.Snapshot) {
			select {
			case got <- s:
			default:
			}
			cancel()
		})
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case s := <-got:
			<-done
			return s, nil
		case <-tick.C:
			if st := p.Status(); st.LastError != "" {
				cancel()
				<-done
				return route.Snapshot{}, errors.New(st.LastError)
			}
		case <-ctx.Done():
			<-done
			select {
			case s := <-got:
				return s, nil
			default:
			}
			return route.Snapshot{}, fmt.Errorf("no answer within %v", wait)
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
