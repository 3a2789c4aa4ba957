// nats-pub: JetStream async publisher for bench/run.mjs, built offline by scripts/setup-bench.sh
// with Debian's golang-go and golang-github-nats-io-go-nats-dev (GO111MODULE=off,
// GOPATH=/usr/share/gocode). Creates a file-store stream, publishes N-byte messages with
// PublishAsync (bounded in flight) for --seconds or --max-msgs, waits for every ack, prints JSON.
// -consume: afterwards reads the whole stream back with a pull consumer (Fetch batches of 1000)
// and reports consumeMBps. -rate R: latency mode instead: publishes R msg/s (timestamp in the
// payload) while a pull consumer on the same stream reads them; reports p50/p99/p99.9 in ms.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
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
	prefix := flag.String("prefix", "bench", "subject prefix of the stream (streams on one server must not overlap)")
	consume := flag.Bool("consume", false, "read the stream back with a pull consumer afterwards")
	rate := flag.Int("rate", 0, "latency mode: publish this many msg/s and measure publish-to-consume latency")
	warmup := flag.Float64("warmup-s", 1, "latency mode: seconds not counted")
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
	if _, err := js.AddStream(&nats.StreamConfig{Name: *stream, Subjects: []string{*prefix + ".>"}, Storage: nats.FileStorage}); err != nil {
		fail("add stream", err)
	}
	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'x'
	}
	if *rate > 0 {
		latency(js, *prefix+".lat", payload, *rate, *seconds, *warmup)
		return
	}
	// warm up
	if _, err := js.Publish(*prefix+".x", payload); err != nil {
		fail("publish", err)
	}
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	sent := 0
	for sent < *maxMsgs {
		if sent&255 == 0 && time.Now().After(deadline) {
			break
		}
		if _, err := js.PublishAsync(*prefix+".x", payload); err != nil {
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
	result := map[string]any{
		"msgs": sent, "stored": stored, "bytes": sent * *size, "seconds": el,
		"MBps": float64(sent**size) / el / 1e6, "msgsPerSec": float64(sent) / el,
	}
	if *consume {
		sub, err := js.PullSubscribe(*prefix+".x", "reader", nats.AckNone())
		if err != nil {
			fail("pull subscribe", err)
		}
		want := int(stored)
		got, bytes := 0, 0
		cstart := time.Now()
		for got < want && time.Since(cstart) < 120*time.Second {
			msgs, err := sub.Fetch(1000, nats.MaxWait(5*time.Second))
			if err != nil && err != nats.ErrTimeout {
				fail("fetch", err)
			}
			for _, m := range msgs {
				bytes += len(m.Data)
			}
			got += len(msgs)
		}
		cel := time.Since(cstart).Seconds()
		result["consumed"] = got
		result["consumeSeconds"] = cel
		result["consumeMBps"] = float64(bytes) / cel / 1e6
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

// latency publishes at a fixed rate (async, acked) with the send time in the payload while a
// pull consumer reads; the latency of a message is receive time minus its send time.
func latency(js nats.JetStreamContext, subject string, payload []byte, rate int, seconds, warmup float64) {
	sub, err := js.PullSubscribe(subject, "lat", nats.AckNone(), nats.DeliverNew())
	if err != nil {
		fmt.Fprintf(os.Stderr, "nats-pub: pull subscribe: %v\n", err)
		os.Exit(1)
	}
	total := int(float64(rate) * seconds)
	skip := int(float64(rate) * warmup)
	samples := make([]float64, 0, total)
	received := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(time.Duration((seconds + 10) * float64(time.Second)))
		for received < total && time.Now().Before(deadline) {
			msgs, err := sub.Fetch(1000, nats.MaxWait(time.Second))
			if err != nil && err != nats.ErrTimeout {
				continue
			}
			now := time.Now().UnixNano()
			for _, m := range msgs {
				if len(m.Data) >= 16 {
					seq := int(binary.BigEndian.Uint64(m.Data[8:16]))
					if seq >= skip {
						samples = append(samples, float64(now-int64(binary.BigEndian.Uint64(m.Data[0:8])))/1e6)
					}
				}
				received++
			}
		}
	}()
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		msg := make([]byte, len(payload))
		copy(msg, payload)
		binary.BigEndian.PutUint64(msg[0:8], uint64(time.Now().UnixNano()))
		binary.BigEndian.PutUint64(msg[8:16], uint64(i))
		if _, err := js.PublishAsync(subject, msg); err != nil {
			fmt.Fprintf(os.Stderr, "nats-pub: publish: %v\n", err)
			os.Exit(1)
		}
	}
	<-done
	sort.Float64s(samples)
	q := func(p float64) float64 {
		if len(samples) == 0 {
			return -1
		}
		return samples[int(p*float64(len(samples)-1))]
	}
	out, _ := json.Marshal(map[string]any{"sent": total, "received": received, "samples": len(samples), "p50Ms": q(0.5), "p99Ms": q(0.99), "p999Ms": q(0.999)})
	fmt.Println(string(out))
}
