package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// The standard variables Setup reads through its getenv
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
// and https://opentelemetry.io/docs/specs/otel/protocol/exporter/).
const (
	envSDKDisabled    = "OTEL_SDK_DISABLED"
	envTracesExporter = "OTEL_TRACES_EXPORTER"
	envServiceName    = "OTEL_SERVICE_NAME"
	envResourceAttrs  = "OTEL_RESOURCE_ATTRIBUTES"
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	envTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envCompression    = "OTEL_EXPORTER_OTLP_COMPRESSION"
	envTracesCompress = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"
	envTimeout        = "OTEL_EXPORTER_OTLP_TIMEOUT"
	envTracesTimeout  = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
)

// tracesPath is what OTLP/HTTP appends to OTEL_EXPORTER_OTLP_ENDPOINT.
const tracesPath = "/v1/traces"

// exportConfig is the exporter configuration the variables give.
type exportConfig struct {
	endpoint string            // full URL of the traces endpoint
	headers  map[string]string // nil when none were set
	gzip     bool
	timeout  time.Duration // 0 for the SDK's default
	resource []attribute.KeyValue
	service  string // OTEL_SERVICE_NAME, or ""
}

// readEnv reads the variables through getenv. It returns nil, nil when
// tracing is off: no endpoint is set, OTEL_SDK_DISABLED is true, or
// OTEL_TRACES_EXPORTER is "none".
func readEnv(getenv func(string) string) (*exportConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if strings.EqualFold(get(envSDKDisabled), "true") {
		return nil, nil
	}
	switch exp := strings.ToLower(get(envTracesExporter)); exp {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s=%q: only otlp (or none) is supported", envTracesExporter, exp)
	}
	var cfg exportConfig
	var err error
	if raw := get(envTracesEndpoint); raw != "" {
		cfg.endpoint, err = endpointURL(envTracesEndpoint, raw, false)
	} else if raw := get(envEndpoint); raw != "" {
		cfg.endpoint, err = endpointURL(envEndpoint, raw, true)
	} else {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if proto, name := signalFirst(get, envTracesProtocol, envProtocol); proto != "" && !strings.EqualFold(proto, "http/protobuf") {
		return nil, fmt.Errorf("%s=%q: only http/protobuf is supported", name, proto)
	}
	switch comp, name := signalFirst(get, envTracesCompress, envCompression); strings.ToLower(comp) {
	case "", "none":
	case "gzip":
		cfg.gzip = true
	default:
		return nil, fmt.Errorf("%s=%q: want gzip or none", name, comp)
	}
	if ms, name := signalFirst(get, envTracesTimeout, envTimeout); ms != "" {
		n, err := strconv.Atoi(ms)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive number of milliseconds", name, ms)
		}
		cfg.timeout = time.Duration(n) * time.Millisecond
	}
	if raw, name := signalFirst(get, envTracesHeaders, envHeaders); raw != "" {
		pairs, err := parseList(name, raw)
		if err != nil {
			return nil, err
		}
		cfg.headers = make(map[string]string, len(pairs))
		for _, p := range pairs {
			cfg.headers[p[0]] = p[1]
		}
	}
	if raw := get(envResourceAttrs); raw != "" {
		pairs, err := parseList(envResourceAttrs, raw)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			cfg.resource = append(cfg.resource, attribute.String(p[0], p[1]))
		}
	}
	cfg.service = get(envServiceName)
	return &cfg, nil
}

// signalFirst returns the first of the variables that is set, and its name:
// the traces-specific one wins over the general one.
func signalFirst(get func(string) string, names ...string) (value, name string) {
	for _, n := range names {
		if v := get(n); v != "" {
			return v, n
		}
	}
	return "", names[len(names)-1]
}

// endpointURL checks raw, the value of the variable name, and returns the
// traces URL: raw with /v1/traces appended when base (the general endpoint is
// a base URL; the traces one is used as it is).
func endpointURL(name, raw string, base bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The url.Error would quote the value, which may hold credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("%s: not a URL: %w", name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%s=%s: want an http:// or https:// URL with a host", name, u.Redacted())
	}
	if base {
		u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
		u.RawPath = ""
	}
	return u.String(), nil
}

// parseList parses the key=value,key=value lists of OTEL_RESOURCE_ATTRIBUTES
// and OTEL_EXPORTER_OTLP_HEADERS: space around keys and values is trimmed and
// values are percent-decoded. Errors name the entry by position and never
// quote a value: headers carry API keys.
func parseList(name, raw string) ([][2]string, error) {
	var out [][2]string
	for i, entry := range strings.Split(raw, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: entry %d is not key=value", name, i+1)
		}
		dv, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d (%s): bad percent-encoding in its value", name, i+1, k)
		}
		out = append(out, [2]string{k, dv})
	}
	return out, nil
}
