package hyperv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// layerChainFile is the file in a Windows layer folder that lists its
// parents, nearest first and the base layer last. Docker's windowsfilter
// driver and containerd's windows snapshotter both write it.
const layerChainFile = "layerchain.json"

// maxLayers bounds the chain read from disk.
const maxLayers = 127

// imageLayers returns the read-only layer folders of the image whose top
// layer folder is top: top itself, then its parents from layerchain.json
// (top-most first, base last), and the UtilityVM folder of the upper-most
// layer that has one (normally the base), which HCS boots as the utility VM.
func imageLayers(top string) (layers []string, utilityVM string, err error) {
	if top == "" {
		return nil, "", fmt.Errorf("%w: image (the runner image's top layer folder) is empty", ErrInvalidSpec)
	}
	if !filepath.IsAbs(top) {
		return nil, "", fmt.Errorf("%w: image %q is not an absolute layer folder path", ErrInvalidSpec, top)
	}
	if st, err := os.Stat(top); err != nil {
		return nil, "", fmt.Errorf("image layer folder: %w", err)
	} else if !st.IsDir() {
		return nil, "", fmt.Errorf("%w: image %q is not a folder", ErrInvalidSpec, top)
	}
	parents, err := readLayerChain(top)
	if err != nil {
		return nil, "", err
	}
	layers = append([]string{filepath.Clean(top)}, parents...)
	for _, l := range layers {
		uvm := filepath.Join(l, "UtilityVM")
		st, err := os.Stat(uvm)
		if err == nil && st.IsDir() {
			return layers, uvm, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("looking for the utility VM image: %w", err)
		}
	}
	return nil, "", fmt.Errorf("%w: no layer of image %q has a UtilityVM folder; Hyper-V isolation needs a base layer that ships one (servercore or nanoserver)", ErrInvalidSpec, top)
}

// readLayerChain reads dir's layerchain.json. A base layer has none.
func readLayerChain(dir string) ([]string, error) {
	name := filepath.Join(dir, layerChainFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading layer chain: %w", err)
	}
	var chain []string
	if err := json.Unmarshal(data, &chain); err != nil {
		return nil, fmt.Errorf("%w: %s: not a JSON array of layer paths: %w", ErrInvalidSpec, name, err)
	}
	if len(chain) > maxLayers {
		return nil, fmt.Errorf("%w: %s lists %d layers, more than %d", ErrInvalidSpec, name, len(chain), maxLayers)
	}
	for i, p := range chain {
		if p == "" || !filepath.IsAbs(p) {
			return nil, fmt.Errorf("%w: %s: entry %d (%q) is not an absolute path", ErrInvalidSpec, name, i, p)
		}
		chain[i] = filepath.Clean(p)
	}
	return chain, nil
}
