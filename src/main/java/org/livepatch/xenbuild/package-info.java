/**
 * The build stage of livepatch-build: from a Xen source tree (SRC), a config and a patch to
 * pairs of original and patched objects, for create-diff-object.
 *
 * <p>The first three stages of the pipeline, each a class with a typed input and output; the
 * entry point for the build half alone is {@link org.livepatch.xenbuild.BuildStage#run(BuildRequest, org.livepatch.stage.Progress)}.
 * Each is reported to the {@link org.livepatch.stage.Progress} callback and timed:
 * <ol>
 *   <li>{@link org.livepatch.xenbuild.CheckStage} ({@code check}): every up-front refusal
 *       ({@link org.livepatch.xenbuild.RequestChecks}); each is a {@link org.livepatch.xenbuild.BuildException}
 *       with its own reason (the CLI gives each its exit code). {@code --xen-syms} is opened here ({@link org.livepatch.xenbuild.XenSyms}).</li>
 *   <li>{@link org.livepatch.xenbuild.ReferenceStage} ({@code hash-source}, {@code reference-build}): the
 *       original tree, built once per key in the cache ({@link org.livepatch.xenbuild.ReferenceCache}),
 *       checked against its manifest on every use and built again when damaged; its xen-syms
 *       copied to OUTPUT and, without {@code --xen-syms}, opened there.</li>
 *   <li>{@link org.livepatch.xenbuild.PatchedBuildStage} ({@code copy-reference}, {@code apply-patch},
 *       {@code find-affected}, {@code patched-build}, {@code collect-objects}, {@code layout-check}):
 *       the patched objects ({@link org.livepatch.xenbuild.PatchedBuild}).</li>
 * </ol>
 *
 * <p>Safety rules. SRC is never written: it is hashed and copied, the patch is tried on the
 * touched files in memory ({@link org.livepatch.xenbuild.SourcePatch#applyTo}), and OUTPUT and the cache may not lie inside it. OUTPUT must
 * not exist or be an empty directory (upstream requires it not to exist; an empty directory
 * cannot lose anything), except with {@code -k build}, which reads a previous run's OUTPUT. The
 * stage never deletes a file it did not create.
 *
 * <p>Layouts.
 * <pre>
 * OUTPUT/.config                      the config used (as upstream)
 * OUTPUT/logs/&lt;stage&gt;.log             reference-build, copy-reference, apply-patch, patched-build
 * OUTPUT/xen-syms                     the reference build's xen-syms
 * OUTPUT/original/xen/&lt;obj&gt;           changed objects, original build
 * OUTPUT/patched/xen/&lt;obj&gt;            changed and new objects, patched build
 * OUTPUT/work/                        the patched tree (removed after success unless --debug)
 * OUTPUT/build-record.txt             patch SHA-256, reference key, SHA-256 of every kept file ({@link org.livepatch.xenbuild.KeptBuild}; checked by -k build)
 *
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/&lt;key&gt;/tree/                built copy of SRC
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/&lt;key&gt;/reference.properties  the key's inputs
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/&lt;key&gt;/dependencies.idx      which files each object was compiled from
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/&lt;key&gt;/manifest, stat        digests of all the above, checked on use ({@link org.livepatch.xenbuild.ReferenceEntry})
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/&lt;key&gt;.lock                  per-key lock
 * ${LPB_CACHE:-~/.cache/livepatch-build}/refs/.tmp-&lt;key&gt;-&lt;pid&gt;/         a build in progress (or killed)
 * </pre>
 */
package org.livepatch.xenbuild;
