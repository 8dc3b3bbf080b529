package github

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KindRegistration is RegistrationConfig.Kind.
const KindRegistration = "registration"

// ErrNotRegistration reports that a runner configuration is not a
// RegistrationConfig; it is then a GitHub just-in-time configuration, to be
// passed to `run.sh --jitconfig` as is.
var ErrNotRegistration = errors.New("not a registration config")

// RegistrationConfig is the runner configuration JITConfig returns when
// GitHub cannot generate a just-in-time one: what `config.sh` needs to
// register an ephemeral runner. vm.JIT.Config carries it as base64 (standard
// encoding, padded) of its JSON.
type RegistrationConfig struct {
	// Kind is always KindRegistration; GitHub's own just-in-time
	// configurations have no "kind" key, which is how a runner entrypoint
	// tells the two apart.
	Kind string `json:"kind"`
	// URL is the repository or organization web URL (config.sh --url).
	URL string `json:"url"`
	// Token is the registration token (config.sh --token). Secret.
	Token string `json:"token"`
	// Name is the runner name (config.sh --name).
	Name string `json:"name"`
	// Labels are the runner labels (config.sh --labels, joined with commas).
	Labels []string `json:"labels"`
	// WorkFolder is the work directory (config.sh --work).
	WorkFolder string `json:"work_folder"`
	// Ephemeral is always true (config.sh --ephemeral): one job, then the
	// runner unregisters.
	Ephemeral bool `json:"ephemeral"`
	// ExpiresAt is when Token stops working (GitHub gives it an hour).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Encode returns the base64 of the JSON document.
func (rc RegistrationConfig) Encode() (string, error) {
	b, err := json.Marshal(rc)
	if err != nil {
		return "", fmt.Errorf("encode registration config: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// Format prints the configuration without its token.
func (rc RegistrationConfig) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "RegistrationConfig{url: %s, name: %s, labels: %v, token: [redacted]}", rc.URL, rc.Name, rc.Labels)
}

// ParseRegistrationConfig decodes a runner configuration. It returns an
// error wrapping ErrNotRegistration when config is not a RegistrationConfig
// (a GitHub just-in-time configuration). Errors never quote config.
func ParseRegistrationConfig(config string) (RegistrationConfig, error) {
	b, err := base64.StdEncoding.DecodeString(config)
	if err != nil {
		return RegistrationConfig{}, errors.New("runner config is not base64")
	}
	var rc RegistrationConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		return RegistrationConfig{}, errors.New("runner config is not a base64 JSON object")
	}
	if rc.Kind != KindRegistration {
		return RegistrationConfig{}, ErrNotRegistration
	}
	if rc.URL == "" || rc.Token == "" || rc.Name == "" {
		return RegistrationConfig{}, errors.New("registration config lacks url, token or name")
	}
	return rc, nil
}
