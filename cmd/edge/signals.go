package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// watchHangup keeps SIGHUP from killing the edge (its default action):
// operators send it to make daemons re-read their files, and the edge
// already re-reads every file it uses when it changes — the routes file
// each second, certificates and secrets as they are rotated — so a
// hangup is logged and changes nothing. It stops with ctx.
func watchHangup(ctx context.Context, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-hup:
				log.Info("SIGHUP received: files are re-read as they change (routes file, certificates, secrets); nothing else to reload")
			case <-ctx.Done():
				return
			}
		}
	}()
}
