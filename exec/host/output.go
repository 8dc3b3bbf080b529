package host

import (
	"io"
	"os"
	osexec "os/exec"
	"sync"
	"time"
)

// output copies a process's stdout and stderr through pipes of our own,
// with small buffers: os/exec's copying uses 32 KiB per stream, which adds
// up when a 50-leg matrix runs at once.
type output struct {
	readers []*os.File
	writers []*os.File
	wg      sync.WaitGroup
}

const copyBuf = 4 << 10

func startOutput(cmd *osexec.Cmd, stdout, stderr io.Writer) (*output, error) {
	o := &output{}
	for _, w := range []io.Writer{stdout, stderr} {
		if w == nil {
			w = io.Discard
		}
		r, pw, err := os.Pipe()
		if err != nil {
			o.abort()
			return nil, err
		}
		o.readers = append(o.readers, r)
		o.writers = append(o.writers, pw)
		o.wg.Add(1)
		go func(w io.Writer) {
			defer o.wg.Done()
			buf := make([]byte, copyBuf)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					w.Write(buf[:n])
				}
				if err != nil {
					return
				}
			}
		}(w)
	}
	cmd.Stdout, cmd.Stderr = o.writers[0], o.writers[1]
	return o, nil
}

// started closes our copies of the write ends, so the readers see EOF when
// the process (and its children) close theirs.
func (o *output) started() {
	for _, w := range o.writers {
		w.Close()
	}
}

// wait waits for the copies to finish, at most d, then closes the pipes.
func (o *output) wait(d time.Duration) {
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		for _, r := range o.readers {
			r.Close()
		}
		<-done
	}
	for _, r := range o.readers {
		r.Close()
	}
}

// abort closes everything when the process never started.
func (o *output) abort() {
	for _, f := range append(o.readers, o.writers...) {
		f.Close()
	}
}
