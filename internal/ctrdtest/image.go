package ctrdtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// Format is an image archive layout.
type Format int

// Archive layouts WriteImage can produce; containerd imports both.
const (
	OCILayout     Format = iota // OCI image layout (oci-layout, index.json, blobs/sha256/…)
	DockerArchive               // `docker save` layout (manifest.json, <id>.json, <id>/layer.tar)
)

// File is an extra file in a test image.
type File struct {
	Path string      // absolute path in the image
	Mode fs.FileMode // permission bits; 0 means 0o644
	Data []byte
}

// ImageOptions describes a busybox test image. The zero value gives an
// image named DefaultImageName that runs `sh`.
type ImageOptions struct {
	Name       string // image name; default DefaultImageName
	Format     Format
	Entrypoint []string
	Cmd        []string // default ["sh"] when Entrypoint is empty too
	Env        []string // added to PATH=…
	WorkingDir string
	User       string
	Labels     map[string]string // image config labels
	Files      []File
	// BusyboxPath is the static busybox to copy in; default BusyboxPath.
	BusyboxPath string
}

// DefaultImageName names test images when ImageOptions.Name is empty.
const DefaultImageName = "vermont.test/busybox:latest"

// applets are the busybox applets linked into /bin of test images.
var applets = []string{
	"[", "awk", "base64", "basename", "cat", "chmod", "cp", "cut", "date", "dirname",
	"echo", "env", "expr", "false", "find", "grep", "head", "hostname", "id", "kill",
	"ln", "ls", "md5sum", "mkdir", "mv", "nc", "nslookup", "ping", "printenv", "printf",
	"ps", "pwd", "rm", "sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat",
	"tail", "tee", "test", "timeout", "touch", "tr", "true", "uname", "wc", "wget",
	"which", "whoami", "xargs", "yes",
}

// BusyboxImage builds a busybox image from opts, imports it through c (into
// c's namespace, unpacked into c's snapshotter) and returns its name. It
// skips or fails tb like Shared.Get when busybox is missing.
func BusyboxImage(tb testing.TB, c *ctrd.Client, opts ImageOptions) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteImage(&buf, opts); err != nil {
		require(tb, err)
	}
	names, err := c.Import(context.Background(), &buf)
	if err != nil {
		tb.Fatalf("import busybox test image: %v", err)
	}
	if len(names) != 1 {
		tb.Fatalf("import busybox test image: got images %v, want one", names)
	}
	return names[0]
}

// WriteImage writes a busybox image archive described by opts to w. The
// archive is deterministic: the same options give the same bytes.
func WriteImage(w io.Writer, opts ImageOptions) error {
	img, err := build(opts, false)
	if err != nil {
		return err
	}
	out := tar.NewWriter(w)
	switch opts.Format {
	case OCILayout:
		err = writeOCI(out, img)
	case DockerArchive:
		err = writeDocker(out, img)
	default:
		err = fmt.Errorf("unknown image format %d", opts.Format)
	}
	if err != nil {
		return err
	}
	return out.Close()
}

// image is a built test image: the blobs and the manifest that an archive
// holds and a registry serves.
type image struct {
	name     string
	config   []byte
	layer    []byte // as stored: a plain tar, or gzip-compressed
	manifest []byte // an OCI image manifest naming config and layer
}

// build makes the image opts describes, the one builder behind WriteImage
// and Registry.Push. With compress the layer is gzip-compressed, as
// registries serve layers; archives keep it a plain tar, as `docker save`
// does. Either way the result is deterministic.
func build(opts ImageOptions, compress bool) (*image, error) {
	if opts.Name == "" {
		opts.Name = DefaultImageName
	}
	if opts.BusyboxPath == "" {
		opts.BusyboxPath = BusyboxPath
	}
	if err := checkStatic(opts.BusyboxPath); err != nil {
		return nil, missingError([]string{err.Error()})
	}
	layer, err := rootfsLayer(opts)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(imageConfig(opts, digest.FromBytes(layer)))
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	layerType := ocispec.MediaTypeImageLayer
	if compress {
		if layer, err = gzipped(layer); err != nil {
			return nil, err
		}
		layerType = ocispec.MediaTypeImageLayerGzip
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    descriptor(ocispec.MediaTypeImageConfig, config),
		Layers:    []ocispec.Descriptor{descriptor(layerType, layer)},
	})
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	return &image{name: opts.Name, config: config, layer: layer, manifest: manifest}, nil
}

// gzipped compresses b. The gzip header carries no name or time, so the
// same input gives the same bytes.
func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	return buf.Bytes(), nil
}

// imageConfig is the OCI image configuration for opts.
func imageConfig(opts ImageOptions, layer digest.Digest) ocispec.Image {
	cmd := opts.Cmd
	if len(cmd) == 0 && len(opts.Entrypoint) == 0 {
		cmd = []string{"sh"}
	}
	epoch := time.Unix(0, 0).UTC()
	return ocispec.Image{
		Created:  &epoch,
		Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		Config: ocispec.ImageConfig{
			Entrypoint: opts.Entrypoint,
			Cmd:        cmd,
			Env:        append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, opts.Env...),
			WorkingDir: opts.WorkingDir,
			User:       opts.User,
			Labels:     opts.Labels,
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer}},
	}
}

// rootfsLayer returns an uncompressed layer tar holding busybox, its
// applet links, a minimal /etc and opts.Files.
func rootfsLayer(opts ImageOptions) ([]byte, error) {
	bb, err := os.ReadFile(opts.BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]fs.FileMode{
		"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o555, "root": 0o700,
		"run": 0o755, "sys": 0o555, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "var": 0o755,
	}
	files := []File{
		{Path: "/bin/busybox", Mode: 0o755, Data: bb},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/etc/hosts", Data: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")},
	}
	files = append(files, opts.Files...)
	for _, f := range opts.Files {
		for d := path.Dir(strings.TrimPrefix(f.Path, "/")); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		if err := tw.WriteHeader(header(tar.TypeDir, d+"/", dirs[d], 0)); err != nil {
			return nil, err
		}
	}
	for _, a := range applets {
		h := header(tar.TypeSymlink, "bin/"+a, 0o777, 0)
		h.Linkname = "/bin/busybox"
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("image file path %q must be absolute and clean", f.Path)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(header(tar.TypeReg, f.Path[1:], mode, int64(len(f.Data)))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// header returns a tar header with fixed ownership and times.
func header(typ byte, name string, mode fs.FileMode, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: typ, Name: name, Mode: int64(mode & 0o7777),
		Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
	}
}

// writeOCI writes an OCI image layout.
func writeOCI(out *tar.Writer, img *image) error {
	md := descriptor(ocispec.MediaTypeImageManifest, img.manifest)
	md.Annotations = map[string]string{
		"io.containerd.image.name": img.name,
		ocispec.AnnotationRefName:  img.name,
	}
	md.Platform = &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{md},
	})
	if err != nil {
		return err
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	entries := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layout},
		{ocispec.ImageIndexFile, index},
		{blobPath(img.config), img.config},
		{blobPath(img.layer), img.layer},
		{blobPath(img.manifest), img.manifest},
	}
	if err := out.WriteHeader(header(tar.TypeDir, "blobs/", 0o755, 0)); err != nil {
		return err
	}
	if err := out.WriteHeader(header(tar.TypeDir, "blobs/sha256/", 0o755, 0)); err != nil {
		return err
	}
	for _, e := range entries {
		if err := writeEntry(out, e.name, e.data); err != nil {
			return err
		}
	}
	return nil
}

// writeDocker writes a `docker save` archive.
func writeDocker(out *tar.Writer, img *image) error {
	cfgName := hexDigest(img.config) + ".json"
	layerName := hexDigest(img.layer) + "/layer.tar"
	manifest, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: cfgName, RepoTags: []string{img.name}, Layers: []string{layerName}}})
	if err != nil {
		return err
	}
	if err := out.WriteHeader(header(tar.TypeDir, hexDigest(img.layer)+"/", 0o755, 0)); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{cfgName, img.config}, {layerName, img.layer}, {"manifest.json", manifest}} {
		if err := writeEntry(out, e.name, e.data); err != nil {
			return err
		}
	}
	return nil
}

func writeEntry(out *tar.Writer, name string, data []byte) error {
	if err := out.WriteHeader(header(tar.TypeReg, name, 0o644, int64(len(data)))); err != nil {
		return err
	}
	_, err := out.Write(data)
	return err
}

func descriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

func hexDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func blobPath(data []byte) string { return "blobs/sha256/" + hexDigest(data) }
