//go:build !thin

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	ctrdexec "github.com/vermont-ci/vermont/exec/containerd"
)

// containerdFlags reach the containerd daemon jobs run on.
type containerdFlags struct {
	address     string
	namespace   string
	snapshotter string
}

func (c *containerdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.address, "containerd-address", "", "containerd socket (default $CONTAINERD_ADDRESS, else /run/containerd/containerd.sock)")
	fs.StringVar(&c.namespace, "namespace", "vermont", "containerd namespace")
	fs.StringVar(&c.snapshotter, "snapshotter", "overlayfs", "containerd snapshotter images are unpacked into")
}

// open connects to containerd.
func (c *containerdFlags) open(ctx context.Context) (*ctrdexec.Backend, error) {
	opts := []ctrdexec.Option{ctrdexec.WithNamespace(c.namespace), ctrdexec.WithSnapshotter(c.snapshotter)}
	if c.address != "" {
		opts = append(opts, ctrdexec.WithAddress(c.address))
	}
	return ctrdexec.New(ctx, opts...)
}

const imageUsage = `usage: vermont image import [--name NAME] FILE.tar...
       vermont image ls
       vermont image rm REF...

Manages the images container jobs, services and Docker actions run from, in
containerd's vermont namespace. import reads OCI image layouts and
` + "`docker save`" + ` archives (plain tar); --name names images the archive leaves
unnamed. Flags go after the subcommand:`

// runImage dispatches image import, ls and rm.
func runImage(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("image", flag.ContinueOnError)
	fset.SetOutput(io.err)
	var cf containerdFlags
	cf.register(fset)
	name := fset.String("name", "", "import: name for images the archive leaves unnamed")
	fset.Usage = func() {
		fmt.Fprintln(io.err, imageUsage)
		fset.PrintDefaults()
	}
	if len(args) == 0 {
		fset.Usage()
		return 2
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fset.Usage()
		return 0
	}
	if code, ok := parseFlags(fset, rest); !ok {
		return code
	}
	var run func(context.Context, *ctrdexec.Backend, []string, stdio) error
	switch sub {
	case "import":
		if fset.NArg() == 0 {
			fmt.Fprintln(io.err, "vermont image import: no archive given")
			return 2
		}
		run = func(ctx context.Context, b *ctrdexec.Backend, files []string, io stdio) error {
			return importImages(ctx, b, files, *name, io)
		}
	case "ls":
		if fset.NArg() != 0 {
			fmt.Fprintln(io.err, "vermont image ls: takes no arguments")
			return 2
		}
		run = listImages
	case "rm":
		if fset.NArg() == 0 {
			fmt.Fprintln(io.err, "vermont image rm: no image given")
			return 2
		}
		run = removeImages
	default:
		fmt.Fprintf(io.err, "vermont image: unknown subcommand %q (want import, ls or rm)\n", sub)
		return 2
	}
	b, err := cf.open(ctx)
	if err != nil {
		fmt.Fprintf(io.err, "vermont image %s: %v\n", sub, err)
		return 1
	}
	defer b.Close()
	if err := run(ctx, b, fset.Args(), io); err != nil {
		fmt.Fprintf(io.err, "vermont image %s: %v\n", sub, err)
		return 1
	}
	return 0
}

func importImages(ctx context.Context, b *ctrdexec.Backend, files []string, name string, io stdio) error {
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		names, err := b.ImportImage(ctx, f, name)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, n := range names {
			fmt.Fprintf(io.out, "imported %s\n", n)
		}
	}
	return nil
}

func listImages(ctx context.Context, b *ctrdexec.Backend, _ []string, io stdio) error {
	imgs, err := b.Images(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tCREATED")
	for _, img := range imgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", img.Name, shortDigest(img.Digest), humanSize(img.Size), img.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func removeImages(ctx context.Context, b *ctrdexec.Backend, refs []string, io stdio) error {
	var errs []error
	for _, ref := range refs {
		if err := b.RemoveImage(ctx, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(io.out, "removed %s\n", ref)
	}
	return errors.Join(errs...)
}

// shortDigest keeps "sha256:" and 12 hex digits, as docker images does.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// humanSize prints bytes in the largest unit that keeps a number ≥ 1.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
