// nats-pub: JetStream async publisher for bench/run.mjs, built offline by scripts/setup-bench.sh
// with Debian's golang-go and golang-github-nats-io-go-nats-dev (GO111MODULE=off,
// GOPATH=/usr/share/gocode). Creates a file-store stream, publishes N-byte messages with
// PublishAsync (bounded in flight) for --seconds or --max-msgs, waits for every ack, prints JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "server URL")
	seconds := flag.Float64("seconds", 5, "publish for this long")
	maxMsgs := flag.Int("max-msgs", 10000000, "stop after this many messages")
	size := flag.Int("size", 1024, "message size")
	inflight := flag.Int("inflight", 4000, "max async publishes without ack")
	stream := flag.String("stream", "BENCH", "stream name")
	flag.Parse()

	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "nats-pub: %s: %v\n", what, err)
		os.Exit(1)
	}
	nc, err := nats.Connect(*url)
	if err != nil {
		fail("connect", err)
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(*inflight))
	if err != nil {
		fail("jetstream", err)
	}
	_ = js.DeleteStream(*stream)
	if _, err := js.AddStream(&nats.StreamConfig{Name: *stream, Subjects: []string{"bench.>"}, Storage: nats.FileStorage}); err != nil {
		fail("add stream", err)
	}
	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'x'
	}
	// warm up
	if _, err := js.Publish("bench.x", payload); err != nil {
		fail("publish", err)
	}
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	sent := 0
	for sent < *maxMsgs {
		if sent&255 == 0 && time.Now().After(deadline) {
			break
		}
		if _, err := js.PublishAsync("bench.x", payload); err != nil {
			fail("publish async", err)
		}
		sent++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		fail("acks", fmt.Errorf("timed out waiting for %d pending acks", js.PublishAsyncPending()))
	}
	el := time.Since(start).Seconds()
	info, err := js.StreamInfo(*stream)
	stored := uint64(0)
	if err == nil {
		stored = info.State.Msgs
	}
	out, _ := json.Marshal(map[string]any{
		"msgs": sent, "stored": stored, "bytes": sent * *size, "seconds": el,
		"MBps": float64(sent**size) / el / 1e6, "msgsPerSec": float64(sent) / el,
	})
	fmt.Println(string(out))
}
