package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/vm"
)

// workFolder is the runner's work directory, relative to its install
// directory; "_work" is GitHub's default.
const workFolder = "_work"

// maxPages bounds every paginated listing, so a misbehaving server cannot
// keep the client paging forever.
const maxPages = 100

// perPage is the largest page GitHub serves.
const perPage = 100

// JITConfig registers a just-in-time runner named name with labels (1 to
// 100 of them, GitHub's bounds) and returns its configuration. Where GitHub
// has no just-in-time endpoint (404 or 422), it returns a registration-token
// configuration instead; see the package documentation for its encoding.
func (c *Client) JITConfig(ctx context.Context, name string, labels []string) (vm.JIT, error) {
	if name == "" {
		return vm.JIT{}, errors.New("github: runner name is empty")
	}
	if len(labels) == 0 || len(labels) > 100 {
		return vm.JIT{}, fmt.Errorf("github: runner %q: %d labels; GitHub requires 1 to 100", name, len(labels))
	}
	req := &gh.GenerateJITConfigRequest{
		Name:          name,
		RunnerGroupID: c.groupID,
		WorkFolder:    gh.Ptr(workFolder),
		Labels:        labels,
	}
	var (
		jit *gh.JITRunnerConfig
		err error
	)
	if c.org != "" {
		jit, _, err = c.gh.Actions.GenerateOrgJITConfig(ctx, c.org, req)
	} else {
		jit, _, err = c.gh.Actions.GenerateRepoJITConfig(ctx, c.owner, c.repo, req)
	}
	op := fmt.Sprintf("generate JIT config for runner %q in %s", name, c.scope())
	if err != nil {
		if code := statusCode(err); code == http.StatusNotFound || code == http.StatusUnprocessableEntity {
			c.log.WarnContext(ctx, "just-in-time runner configuration unavailable; falling back to a registration token",
				"runner", name, "scope", c.scope(), "status", code, "error", c.wrap(op, err))
			return c.registrationConfig(ctx, name, labels)
		}
		return vm.JIT{}, c.wrap(op, err)
	}
	config := jit.GetEncodedJITConfig()
	if config == "" {
		return vm.JIT{}, fmt.Errorf("github: %s: response has no encoded_jit_config", op)
	}
	id := jit.GetRunner().GetID()
	c.log.DebugContext(ctx, "just-in-time runner registered", "runner", name, "id", id, "scope", c.scope())
	return vm.JIT{RunnerID: id, Config: config}, nil
}

// registrationConfig is JITConfig's fallback: a registration token, encoded
// with the runner's settings as a RegistrationConfig.
func (c *Client) registrationConfig(ctx context.Context, name string, labels []string) (vm.JIT, error) {
	var (
		tok *gh.RegistrationToken
		err error
	)
	if c.org != "" {
		tok, _, err = c.gh.Actions.CreateOrganizationRegistrationToken(ctx, c.org)
	} else {
		tok, _, err = c.gh.Actions.CreateRegistrationToken(ctx, c.owner, c.repo)
	}
	op := fmt.Sprintf("create registration token for runner %q in %s", name, c.scope())
	if err != nil {
		return vm.JIT{}, c.wrap(op, err)
	}
	if tok.GetToken() == "" {
		return vm.JIT{}, fmt.Errorf("github: %s: response has no token", op)
	}
	rc := RegistrationConfig{
		Kind:       KindRegistration,
		URL:        c.htmlURL,
		Token:      tok.GetToken(),
		Name:       name,
		Labels:     labels,
		WorkFolder: workFolder,
		Ephemeral:  true,
		ExpiresAt:  tok.GetExpiresAt().Time,
	}
	config, err := rc.Encode()
	if err != nil {
		return vm.JIT{}, fmt.Errorf("github: %s: %w", op, err)
	}
	c.log.InfoContext(ctx, "runner registration token issued", "runner", name, "scope", c.scope())
	return vm.JIT{Config: config}, nil
}

// RemoveRunner deletes runner id's registration. A runner that is already
// gone (404) is not an error.
func (c *Client) RemoveRunner(ctx context.Context, id int64) error {
	if id <= 0 {
		return fmt.Errorf("github: remove runner: ID %d is not a runner ID", id)
	}
	var err error
	if c.org != "" {
		_, err = c.gh.Actions.RemoveOrganizationRunner(ctx, c.org, id)
	} else {
		_, err = c.gh.Actions.RemoveRunner(ctx, c.owner, c.repo, id)
	}
	if isNotFound(err) {
		c.log.DebugContext(ctx, "runner already removed", "id", id, "scope", c.scope())
		return nil
	}
	if err != nil {
		return c.wrap(fmt.Sprintf("remove runner %d from %s", id, c.scope()), err)
	}
	c.log.DebugContext(ctx, "runner removed", "id", id, "scope", c.scope())
	return nil
}

// ListRunners returns every self-hosted runner registered at the client's
// scope, following pagination.
func (c *Client) ListRunners(ctx context.Context) ([]vm.Runner, error) {
	var out []vm.Runner
	opts := &gh.ListRunnersOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for page := 0; ; page++ {
		if page == maxPages {
			return out, fmt.Errorf("github: list runners in %s: more than %d pages", c.scope(), maxPages)
		}
		var (
			runners *gh.Runners
			resp    *gh.Response
			err     error
		)
		if c.org != "" {
			runners, resp, err = c.gh.Actions.ListOrganizationRunners(ctx, c.org, opts)
		} else {
			runners, resp, err = c.gh.Actions.ListRunners(ctx, c.owner, c.repo, opts)
		}
		if err != nil {
			return nil, c.wrap("list runners in "+c.scope(), err)
		}
		for _, r := range runners.Runners {
			out = append(out, toRunner(r))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func toRunner(r *gh.Runner) vm.Runner {
	labels := make([]string, 0, len(r.Labels))
	for _, l := range r.Labels {
		labels = append(labels, l.GetName())
	}
	return vm.Runner{
		ID:     r.GetID(),
		Name:   r.GetName(),
		Status: r.GetStatus(),
		Busy:   r.GetBusy(),
		Labels: labels,
	}
}
