package org.livepatch.xenbuild;

import com.github.difflib.patch.ChangeDelta;
import com.github.difflib.patch.Chunk;
import java.util.List;

/**
 * One {@code @@ -a,b +c,d @@} block of a source patch. The old and new sides are java-diff-utils
 * chunks: the old side (context and removed lines) at the position the header states, the new
 * side (context and added lines). Lines carry no terminator; a line that had none in the file (the
 * {@code \ No newline at end of file} marker) ends in {@link PatchLines#NO_EOL}, and a carriage
 * return is part of the line, so comparing lines compares bytes.
 *
 * @param patchLine      line of the patch file holding the {@code @@} header, for messages
 * @param prefixContext  context lines before the first change
 * @param suffixContext  context lines after the last change; fewer on one side than the other
 *                       means the hunk sits at the start or the end of the file
 */
public record Hunk(int patchLine, ChangeDelta<String> delta, int prefixContext, int suffixContext) {

    public Hunk(int patchLine, int oldStart, List<String> oldLines, int newStart, List<String> newLines,
            int prefixContext, int suffixContext) {
        this(patchLine, new ChangeDelta<>(new Chunk<>(oldStart, oldLines), new Chunk<>(newStart, newLines)),
                prefixContext, suffixContext);
    }

    /** The old side: what must be found in the file. */
    public List<String> oldLines() {
        return delta.getSource().getLines();
    }

    public List<String> newLines() {
        return delta.getTarget().getLines();
    }

    /** Where the header says the old side starts, 0-based (an empty old side: the index it is inserted at). */
    public int statedStart() {
        return delta.getSource().getPosition();
    }

    /** The same change with its old side found at {@code at} (the new side moves by the same amount). */
    ChangeDelta<String> at(int at) {
        int shift = at - statedStart();
        return new ChangeDelta<>(new Chunk<>(at, oldLines()),
                new Chunk<>(delta.getTarget().getPosition() + shift, newLines()));
    }
}
