#!/bin/sh
echo "tool=script beside action.yml" >> "$GITHUB_OUTPUT"
echo "tool.sh ran from $(basename "$(dirname "$0")") repository=[$GITHUB_ACTION_REPOSITORY] ref=[$GITHUB_ACTION_REF]"
