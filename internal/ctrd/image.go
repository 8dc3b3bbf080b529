package ctrd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// importConfig holds Import's options.
type importConfig struct {
	name   string
	labels map[string]string
}

// ImportOption configures Import.
type ImportOption func(*importConfig)

// WithImportName names images that the archive leaves unnamed (an OCI
// layout without a ref name annotation).
func WithImportName(name string) ImportOption {
	return func(c *importConfig) { c.name = name }
}

// WithImportLabels puts labels on every imported image, so that
// RemoveLabeled can find them later.
func WithImportLabels(labels map[string]string) ImportOption {
	return func(c *importConfig) { c.labels = labels }
}

// Import reads an image archive (an OCI image layout or a `docker save`
// archive, plain tar), stores it in the namespace, unpacks every image into
// the snapshotter, and returns the names of the images it created, sorted.
func (c *Client) Import(ctx context.Context, r io.Reader, opts ...ImportOption) ([]string, error) {
	var cfg importConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx = c.Context(ctx)
	iopts := []client.ImportOpt{
		client.WithImageRefTranslator(normalizeRef),
		client.WithSkipDigestRef(func(name string) bool { return name != "" }),
		client.WithDigestRef(func(d digest.Digest) string {
			if cfg.name != "" {
				return normalizeRef(cfg.name)
			}
			return "import.vermont.local/unnamed@" + d.String()
		}),
	}
	if cfg.labels != nil {
		iopts = append(iopts, client.WithImageLabels(cfg.labels))
	}
	imgs, err := c.c.Import(ctx, r, iopts...)
	if err != nil {
		return nil, fmt.Errorf("import image archive: %w", err)
	}
	if len(imgs) == 0 {
		return nil, errors.New("import image archive: the archive holds no image for this platform")
	}
	names := make([]string, 0, len(imgs))
	for _, img := range imgs {
		i := client.NewImage(c.c, img)
		if err := c.unpack(ctx, i); err != nil {
			return nil, err
		}
		names = append(names, img.Name)
	}
	sort.Strings(names)
	return names, nil
}

// normalizeRef turns "busybox" into "docker.io/library/busybox:latest", the
// way Docker names images, and leaves anything it cannot parse alone.
func normalizeRef(ref string) string {
	n, err := reference.ParseDockerRef(ref)
	if err != nil {
		return ref
	}
	return n.String()
}

// unpack makes sure img's layers are in the snapshotter.
func (c *Client) unpack(ctx context.Context, img client.Image) error {
	ok, err := img.IsUnpacked(ctx, c.snapshotter)
	if err != nil {
		return fmt.Errorf("image %s: check unpacked into %s: %w", img.Name(), c.snapshotter, err)
	}
	if ok {
		return nil
	}
	if err := img.Unpack(ctx, c.snapshotter); err != nil {
		return fmt.Errorf("image %s: unpack into %s: %w", img.Name(), c.snapshotter, err)
	}
	return nil
}

// imageConfig holds Image's options.
type imageConfig struct {
	pull  bool
	creds map[string]credentials // by registry host, as requests name it
}

// ImageOption configures Image.
type ImageOption func(*imageConfig)

// WithPull lets Image pull an image that is not in the namespace yet.
func WithPull() ImageOption {
	return func(c *imageConfig) { c.pull = true }
}

// Image finds ref in the namespace (as given, or normalised the way Docker
// does: "busybox" is docker.io/library/busybox:latest), pulls it when allowed
// and missing (with the credentials of WithCredentials), and makes sure it
// is unpacked. A missing image is reported with ErrImageNotFound and its
// name, a registry that refuses the pull with ErrUnauthorized.
func (c *Client) Image(ctx context.Context, ref string, opts ...ImageOption) (client.Image, error) {
	var cfg imageConfig
	for _, o := range opts {
		o(&cfg)
	}
	if ref == "" {
		return nil, fmt.Errorf("%w: empty image reference", ErrImageNotFound)
	}
	ctx = c.Context(ctx)
	img, err := c.lookup(ctx, ref)
	if errdefs.IsNotFound(err) && cfg.pull {
		return c.pull(ctx, ref, cfg)
	}
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %s is not in containerd namespace %q (import it with `vermont image import FILE.tar`, or pull it: `vermont run --pull`)", ErrImageNotFound, ref, c.namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if err := c.unpack(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

// lookup finds ref as given, then normalised.
func (c *Client) lookup(ctx context.Context, ref string) (client.Image, error) {
	img, err := c.c.GetImage(ctx, ref)
	if errdefs.IsNotFound(err) {
		if n := normalizeRef(ref); n != ref {
			return c.c.GetImage(ctx, n)
		}
	}
	return img, err
}

// ImageInfo describes one image in the namespace.
type ImageInfo struct {
	Name      string
	Digest    string
	Size      int64 // content size as stored (compressed layers)
	Labels    map[string]string
	CreatedAt time.Time
}

// Images lists the images in the namespace, sorted by name.
func (c *Client) Images(ctx context.Context, filters ...string) ([]ImageInfo, error) {
	ctx = c.Context(ctx)
	imgs, err := c.c.ListImages(ctx, filters...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]ImageInfo, 0, len(imgs))
	for _, img := range imgs {
		md := img.Metadata()
		size, err := img.Size(ctx)
		if err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("image %s: size: %w", md.Name, err)
		}
		out = append(out, ImageInfo{
			Name:      md.Name,
			Digest:    md.Target.Digest.String(),
			Size:      size,
			Labels:    md.Labels,
			CreatedAt: md.CreatedAt,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveImage deletes an image by name (as given or normalised); its content
// and snapshots go with the next garbage collection, which this call waits
// for. A missing image is reported with ErrImageNotFound.
func (c *Client) RemoveImage(ctx context.Context, ref string) error {
	ctx = c.Context(ctx)
	img, err := c.lookup(ctx, ref)
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %s is not in containerd namespace %q", ErrImageNotFound, ref, c.namespace)
	}
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if err := c.c.ImageService().Delete(ctx, img.Name(), images.SynchronousDelete()); err != nil {
		return fmt.Errorf("remove image %s: %w", ref, err)
	}
	return nil
}
