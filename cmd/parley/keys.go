package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/migrate"
)

// runKeys is `parley keys create|list|revoke`: API keys are managed on the
// database directly, as Twilio manages them in its console rather than
// through the Conversations API.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: parley keys create [--name NAME] | list | revoke SID")
	}
	var c config
	var name string
	fs := flag.NewFlagSet("parley keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "a friendly name for the key")
	}
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	app, closeStore, err := openApp(ctx, c)
	if err != nil {
		return err
	}
	defer closeStore()

	switch args[0] {
	case "create":
		if fs.NArg() != 0 {
			return errors.New("usage: parley keys create [--name NAME]")
		}
		key, secret, err := app.CreateAPIKey(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key SID  %s\nsecret       %s\n\nThe secret is shown only now: parley does not keep it (only what checks it).\n", key.Sid, secret)
	case "list":
		keys, err := app.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SID\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.DateRevoked != nil {
				revoked = k.DateRevoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Sid, k.FriendlyName, k.DateCreated.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("usage: parley keys revoke SID")
		}
		if err := app.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
	default:
		return fmt.Errorf("unknown keys command %q: use create, list or revoke", args[0])
	}
	return nil
}

// openApp opens the database a server has already set up, for the
// commands that work on it directly (keys, token): a mistyped --db must
// neither create a database nor write parley's tables into someone
// else's, and the message must not show a password.
func openApp(ctx context.Context, c config) (*core.App, func(), error) {
	db := redactDB(c.db)
	noAccount := fmt.Errorf("no parley database at %s: start `parley --db %s` first", db, db)
	store, _, err := openStore(ctx, c.db, true)
	if errors.Is(err, migrate.ErrNotSetUp) {
		return nil, nil, noAccount
	}
	if err != nil {
		return nil, nil, err
	}
	var account parley.Account
	err = store.View(ctx, func(tx parley.Tx) error {
		account, err = tx.Account(ctx)
		return err
	})
	if err != nil {
		store.Close()
		if errors.Is(err, parley.ErrNotFound) {
			return nil, nil, noAccount
		}
		return nil, nil, err
	}
	return core.New(core.Options{Store: store, Account: account}), func() { store.Close() }, nil
}

// runToken is `parley token --identity ID [--service IS…] [--ttl 1h]
// [--key SK…]`: an access token for a client SDK, for local development,
// signed with a stored API key (the newest active one unless --key names
// one; with none, one is created and named on stderr).
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	var identity, svc, keySid string
	var ttl time.Duration
	fs := flag.NewFlagSet("parley token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	fs.StringVar(&identity, "identity", "", "the user the token signs in (required)")
	fs.StringVar(&svc, "service", "", "the Conversation Service SID (default: the default service)")
	fs.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid (at most 24h)")
	fs.StringVar(&keySid, "key", "", "the API key SID to sign with (default: the newest active key)")
	if err := parseFlags(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if identity == "" || fs.NArg() != 0 {
		return errors.New("usage: parley token --identity ID [--service IS…] [--ttl 1h] [--key SK…]")
	}
	app, closeStore, err := openApp(ctx, c)
	if err != nil {
		return err
	}
	defer closeStore()
	if keySid == "" {
		keys, err := app.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.DateRevoked == nil && k.SigningState != nil {
				keySid = k.Sid // oldest first: the last is the newest
			}
		}
		if keySid == "" {
			key, _, err := app.CreateAPIKey(ctx, "parley token")
			if err != nil {
				return err
			}
			keySid = key.Sid
			fmt.Fprintf(stderr, "created API key %s to sign tokens (see parley keys list)\n", key.Sid)
		}
	}
	token, err := app.MintAccessToken(ctx, keySid, identity, svc, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
