/** A partial answer's error (issue 21) placed at the field that returned the partial data. */
import { GraphQLError, responsePathAsArray, type GraphQLResolveInfo } from 'graphql';

export function located(error: GraphQLError, path: GraphQLResolveInfo['path']): GraphQLError {
  return new GraphQLError(error.message, { path: responsePathAsArray(path), extensions: error.extensions, originalError: error });
}
