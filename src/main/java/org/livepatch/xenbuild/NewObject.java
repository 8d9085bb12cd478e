package org.livepatch.xenbuild;

import java.nio.file.Path;

/** An object that exists only in the patched build (the patch added its source): linked in whole. */
public record NewObject(String path, Path patched) {}
