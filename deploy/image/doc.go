// Package image holds the edge's container image: Containerfile and
// build.sh assemble it from scratch without a registry (`make image`),
// Dockerfile builds it from source for people with one. The package has
// no Go code of its own; its test builds the image with buildah and runs
// the edge inside it with every capability dropped and no-new-privileges
// (docs/image.md).
package image
