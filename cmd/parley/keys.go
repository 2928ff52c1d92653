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
	// Keys belong to a database a server has already set up: a mistyped
	// --db must neither create a database nor write parley's tables into
	// someone else's, and the message must not show a password.
	db := redactDB(c.db)
	noAccount := fmt.Errorf("no parley database at %s: start `parley --db %s` first", db, db)
	store, _, err := openStore(ctx, c.db, true)
	if errors.Is(err, migrate.ErrNotSetUp) {
		return noAccount
	}
	if err != nil {
		return err
	}
	defer store.Close()
	var account parley.Account
	err = store.View(ctx, func(tx parley.Tx) error {
		account, err = tx.Account(ctx)
		return err
	})
	if errors.Is(err, parley.ErrNotFound) {
		return noAccount
	}
	if err != nil {
		return err
	}
	app := core.New(core.Options{Store: store, Account: account})

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
