/**
 * Running stages: the clock that times each stage and reports its start, end and notices to a
 * {@link org.livepatch.stage.Progress} callback. It has no dependencies of its own, so both the
 * build stages ({@code xenbuild}) and the pipeline that runs them can report through it without
 * either package importing the other's.
 */
package org.livepatch.stage;
