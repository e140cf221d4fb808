package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar of bytes on standard error, or nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a bar for total bytes (0: unknown) described by
// what, drawn only when standard error is a terminal and --quiet is not
// given: a pipe or a file gets the result and errors alone.
func (s *session) newProgress(what string, total int64) *progress {
	f, ok := s.stderr.(*os.File)
	if s.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	max := total
	if max == 0 {
		max = -1 // a spinner, with bytes and rate
	}
	return &progress{bar: progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { f.WriteString("\n") }),
	)}
}

// set shows done bytes of total.
func (p *progress) set(done, total int64) {
	if p.bar == nil {
		return
	}
	if total > 0 && p.bar.GetMax64() != total {
		p.bar.ChangeMax64(total)
	}
	p.bar.Set64(done)
}

// finish draws the bar complete, and ends its line.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
