package hyperv

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
)

// The types below mirror the JSON of hcsshim's schema 1 ContainerConfig and
// ProcessConfig (internal/hcs/schema1, re-exported by package hcsshim on
// Windows only). Field names and omitempty flags match hcsshim v0.15.0, so
// the golden files in testdata are what HCS receives; host_windows.go copies
// them field by field into hcsshim's types, which the compiler checks.

// systemDocument is the schema 1 ContainerConfig for one instance.
type systemDocument struct {
	SystemType                  string      // always "Container"
	Name                        string      // the system ID
	Owner                       string      `json:",omitempty"`
	LayerFolderPath             string      `json:",omitempty"` // the scratch layer
	Layers                      []layerRef  // read-only layers, top-most first
	ProcessorCount              uint32      `json:",omitempty"`
	MemoryMaximumInMB           int64       `json:",omitempty"`
	HostName                    string      `json:",omitempty"`
	MappedDirectories           []mappedDir `json:",omitempty"`
	HvPartition                 bool        // Hyper-V isolation
	EndpointList                []string    `json:",omitempty"`
	HvRuntime                   *hvRuntime  `json:",omitempty"`
	TerminateOnLastHandleClosed bool        `json:",omitempty"`
}

// layerRef is a schema 1 Layer.
type layerRef struct {
	ID   string
	Path string
}

// mappedDir is a schema 1 MappedDir.
type mappedDir struct {
	HostPath          string
	ContainerPath     string
	ReadOnly          bool
	BandwidthMaximum  uint64
	IOPSMaximum       uint64
	CreateInUtilityVM bool
}

// hvRuntime is a schema 1 HvRuntime: where the utility VM image is.
type hvRuntime struct {
	ImagePath string `json:",omitempty"`
}

// processDocument is a schema 1 ProcessConfig for the runner process.
type processDocument struct {
	CommandLine      string            `json:",omitempty"`
	WorkingDirectory string            `json:",omitempty"`
	Environment      map[string]string `json:",omitempty"`
}

// Where the instance directory's config folder appears in the container, and
// the names of the files and variables the entrypoint reads (packer/scripts).
const (
	guestConfigDir    = `C:\vermont`
	configFileName    = "runner-config"
	envRunnerName     = "VERMONT_RUNNER_NAME"
	envPool           = "VERMONT_POOL"
	envConfigFile     = "VERMONT_RUNNER_CONFIG_FILE"
	defaultCommand    = `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\actions-runner\vermont-entrypoint.ps1`
	defaultWorkingDir = `C:\actions-runner`
)

// instancePlan is everything the documents are built from; it holds no
// secret.
type instancePlan struct {
	ID         string
	Owner      string
	Name       string
	Pool       string
	ScratchDir string
	ConfigDir  string
	Layers     []layerRef // top-most first
	UtilityVM  string
	CPUs       int
	MemoryMB   int
	EndpointID string // empty: no network
	Env        map[string]string
	Command    string
	WorkingDir string
}

// buildSystemDocument returns the compute system document for p.
func buildSystemDocument(p *instancePlan) *systemDocument {
	doc := &systemDocument{
		SystemType:        "Container",
		Name:              p.ID,
		Owner:             p.Owner,
		LayerFolderPath:   p.ScratchDir,
		Layers:            append([]layerRef(nil), p.Layers...),
		ProcessorCount:    uint32(p.CPUs),
		MemoryMaximumInMB: int64(p.MemoryMB),
		HostName:          hostName(p.ID),
		MappedDirectories: []mappedDir{{
			HostPath:      p.ConfigDir,
			ContainerPath: guestConfigDir,
			ReadOnly:      true,
		}},
		HvPartition: true,
		HvRuntime:   &hvRuntime{ImagePath: p.UtilityVM},
		// The system must outlive the controller's handle so that a
		// restarted controller finds it (List) instead of losing the job.
		TerminateOnLastHandleClosed: false,
	}
	if p.EndpointID != "" {
		doc.EndpointList = []string{p.EndpointID}
	}
	return doc
}

// buildProcessDocument returns the runner process document for p. The
// config travels as a file path, never as a value.
func buildProcessDocument(p *instancePlan) *processDocument {
	env := make(map[string]string, len(p.Env)+3)
	maps.Copy(env, p.Env)
	env[envRunnerName] = p.Name
	env[envPool] = p.Pool
	env[envConfigFile] = guestConfigDir + `\` + configFileName
	return &processDocument{
		CommandLine:      p.Command,
		WorkingDirectory: p.WorkingDir,
		Environment:      env,
	}
}

// hostName derives a NetBIOS-safe (15 characters at most) host name from
// the system ID, the way Docker uses the first 12 hex digits of an ID.
func hostName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "vm-" + hex.EncodeToString(sum[:6])
}
