// Package telemetry traces workflow runs with OpenTelemetry and exports the
// traces over OTLP/HTTP.
//
// [Setup] builds the TracerProvider from the standard OTEL_* variables; with
// no endpoint configured it is a no-op and nothing is sent. [StartRun]
// opens a span for one run, and its [Run.Sink] turns the executor's events
// into a child span per job and a grandchild per step, timed by the events'
// own timestamps; [Run.End] closes whatever is still open.
//
// Nothing here is global: Setup does not install its provider as otel's
// global one, and the caller passes the provider to StartRun.
package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// DefaultServiceName is the service.name when neither the caller nor the
// environment gives one.
const DefaultServiceName = "vermont"

// Setup returns a TracerProvider that exports over OTLP/HTTP (protobuf) when
// OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, to which /v1/traces is appended)
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL) is set, and a no-op
// provider otherwise, or when OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none.
//
// These variables are read through getenv, which is os.Getenv in a real
// service: OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,HEADERS,PROTOCOL (only
// http/protobuf),COMPRESSION,TIMEOUT}, OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. The service name is OTEL_SERVICE_NAME, else
// service.name from OTEL_RESOURCE_ATTRIBUTES, else serviceName, else
// DefaultServiceName. The rest of the specification's variables (TLS
// certificates, OTEL_TRACES_SAMPLER, OTEL_BSP_*) are read from the process
// environment by the SDK itself.
//
// shutdown flushes the spans not yet exported and stops the exporter; call
// it once, with a context that bounds how long it may take. Bad settings
// give an error that names the variable and never quotes a header's value.
func Setup(ctx context.Context, serviceName string, getenv func(string) string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	nop := func(context.Context) error { return nil }
	if getenv == nil {
		return nil, nil, fmt.Errorf("telemetry: Setup: nil getenv")
	}
	cfg, err := readEnv(getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: %w", err)
	}
	if cfg == nil {
		return noop.NewTracerProvider(), nop, nil
	}
	res, err := newResource(ctx, serviceName, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.endpoint)}
	if cfg.headers != nil {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.headers))
	}
	if cfg.gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	if cfg.timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(cfg.timeout))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return sdk, sdk.Shutdown, nil
}

// newResource describes this process: the SDK, the host, the resource
// attributes from the environment and the service name, in that order of
// precedence (later wins).
func newResource(ctx context.Context, serviceName string, cfg *exportConfig) (*resource.Resource, error) {
	name := cfg.service
	if name == "" {
		for _, kv := range cfg.resource {
			if kv.Key == semconv.ServiceNameKey {
				name = kv.Value.AsString()
			}
		}
	}
	if name == "" {
		name = serviceName
	}
	if name == "" {
		name = DefaultServiceName
	}
	return resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(cfg.resource...),
		resource.WithAttributes(semconv.ServiceName(name)),
	)
}
